package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.util.List;
import java.util.Map;

/** The XenAPI class {@code pool_update}. */
public final class PoolUpdate {
  private PoolUpdate() {}

  public static final XClass<PoolUpdate> CLASS = new XClass<>("pool_update");
  public static final Field<PoolUpdate, String> UUID = CLASS.uuid();
  public static final Field<PoolUpdate, String> NAME_LABEL = CLASS.indexedString("name_label", RO);
  public static final Field<PoolUpdate, String> NAME_DESCRIPTION =
      CLASS.string("name_description", RO);
  public static final Field<PoolUpdate, String> VERSION = CLASS.string("version", RO);
  public static final Field<PoolUpdate, Long> INSTALLATION_SIZE =
      CLASS.integer("installation_size", RO);
  public static final Field<PoolUpdate, String> KEY = CLASS.string("key", RO);
  public static final Field<PoolUpdate, List<String>> AFTER_APPLY_GUIDANCE =
      CLASS.strings("after_apply_guidance", RO);
  public static final Field<PoolUpdate, Ref<Vdi>> VDI = CLASS.ref("vdi", "VDI", RO);
  public static final Field<PoolUpdate, List<Ref<Host>>> HOSTS = CLASS.refs("hosts", "host", RO);
  public static final Field<PoolUpdate, Map<String, String>> OTHER_CONFIG =
      CLASS.map("other_config", RW);
  public static final Field<PoolUpdate, Boolean> ENFORCE_HOMOGENEITY =
      CLASS.bool("enforce_homogeneity", RO);
}
