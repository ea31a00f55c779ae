package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.List;
import java.util.Map;

/** The XenAPI class {@code network}. */
public final class Network {
  private Network() {}

  public static final XClass<Network> CLASS = new XClass<>("network");
  public static final Field<Network, String> UUID = CLASS.uuid();
  public static final Field<Network, String> NAME_LABEL = CLASS.indexedString("name_label", RW);
  public static final Field<Network, String> NAME_DESCRIPTION =
      CLASS.string("name_description", RW);
  public static final Field<Network, List<Ref<Vif>>> VIFS = CLASS.inverse("VIFs", "VIF", "network");
  public static final Field<Network, String> BRIDGE = CLASS.string("bridge", RO);
  public static final Field<Network, Long> MTU = CLASS.integer("MTU", RW, 1500);
  public static final Field<Network, Map<String, String>> OTHER_CONFIG =
      CLASS.map("other_config", RW);
  public static final Field<Network, List<String>> TAGS = CLASS.strings("tags", RW);
  public static final Field<Network, List<String>> ALLOWED_OPERATIONS =
      CLASS.strings("allowed_operations", RO);
  public static final Field<Network, Map<String, String>> CURRENT_OPERATIONS =
      CLASS.map("current_operations", RO);
  public static final Field<Network, List<Ref<Pif>>> PIFS = CLASS.inverse("PIFs", "PIF", "network");
  public static final Field<Network, Boolean> MANAGED = CLASS.bool("managed", RO, true);
  public static final Field<Network, Map<String, String>> BLOBS = CLASS.map("blobs", RO);
  public static final Field<Network, NetworkDefaultLockingMode> DEFAULT_LOCKING_MODE =
      CLASS.enumeration(
          "default_locking_mode",
          NetworkDefaultLockingMode.class,
          RW,
          NetworkDefaultLockingMode.UNLOCKED);
  public static final Field<Network, Map<String, String>> ASSIGNED_IPS =
      CLASS.map("assigned_ips", RO);
  public static final Field<Network, List<String>> PURPOSE = CLASS.strings("purpose", RO);
}
