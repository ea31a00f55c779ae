package org.xsm.iscsi;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xsm.api.Capability;
import org.xsm.api.ConfigKey;
import org.xsm.api.DriverInfo;
import org.xsm.api.ProbeResult;
import org.xsm.api.SmDriver;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.iscsi.control.ControlClient;
import org.xsm.iscsi.control.Lun;
import org.xsm.iscsi.initiator.InitiatorConfig;
import org.xsm.iscsi.initiator.IscsiSession;

/**
 * The iSCSI backend (SR type {@code iscsi}): VDIs are LUNs of a storage array, made, snapshotted
 * and cloned through the array's control API, read and written through this plugin's own iSCSI
 * initiator.
 *
 * <p>An SR is the set of LUNs whose metadata carries {@code xsm-sr=<sr uuid>}. {@code sr_create}
 * makes one small LUN with {@code xsm-role=sr-record} that records that the SR exists (so that an
 * empty SR can be probed and attached); {@code sr_delete} removes it once no VDI LUN is left.
 * Several SRs may share one array.
 */
public final class IscsiDriver implements SmDriver {
  /** The size of the SR record LUN; the array allocates nothing until it is written. */
  static final long RECORD_SIZE_BYTES = 1L << 20;

  private static final DriverInfo INFO =
      new DriverInfo(
          "iscsi",
          "iSCSI array SR",
          "LUNs on an iSCSI storage array; snapshots and clones through the array's control API",
          "xsm",
          "(C) the xsm authors",
          "1.0",
          SmDriver.API_VERSION,
          EnumSet.of(
              Capability.SR_CREATE,
              Capability.SR_DELETE,
              Capability.SR_PROBE,
              Capability.SR_ATTACH,
              Capability.SR_DETACH,
              Capability.SR_SCAN,
              Capability.SR_UPDATE,
              Capability.VDI_CREATE,
              Capability.VDI_DELETE,
              Capability.VDI_ATTACH,
              Capability.VDI_DETACH,
              Capability.VDI_ACTIVATE,
              Capability.VDI_DEACTIVATE,
              Capability.VDI_SNAPSHOT,
              Capability.VDI_CLONE,
              Capability.VDI_RESIZE,
              Capability.VDI_RESIZE_ONLINE,
              Capability.VDI_UPDATE,
              Capability.VDI_INTRODUCE,
              Capability.VDI_GENERATE_CONFIG,
              Capability.ATOMIC_PAUSE,
              Capability.THIN_PROVISIONING,
              Capability.VDI_CONFIG_CBT),
          List.of(
              new ConfigKey("target", "iSCSI portal of the array, host[:port] (port 3260)", true),
              new ConfigKey("targetIQN", "IQN of the array's iSCSI target", true),
              new ConfigKey(
                  "controlURL",
                  "Base URL of the array's control API, e.g. http://array:8080",
                  true),
              new ConfigKey("controlUser", "User for the control API (HTTP Basic)", false),
              new ConfigKey("controlPassword", "Password for the control API", false),
              new ConfigKey("chapuser", "CHAP user name for the iSCSI login", false),
              new ConfigKey("chappassword", "CHAP secret for the iSCSI login", false)),
          List.of("raw"));

  // One set per JVM (= per host): a second instance of the driver must refuse an attached SR too.
  private static final Set<String> attachedSrs = new HashSet<>();

  @Override
  public DriverInfo info() {
    return INFO;
  }

  static ControlClient client(Map<String, String> deviceConfig) throws SmException {
    String url = required(deviceConfig, "controlURL");
    try {
      return new ControlClient(
          url,
          deviceConfig.get("controlUser"),
          deviceConfig.get("controlPassword"),
          Duration.ofSeconds(30));
    } catch (IllegalArgumentException e) {
      throw new SmException(
          SmError.BAD_REQUEST, "device_config:controlURL " + url + ": " + e.getMessage(), e);
    }
  }

  static InitiatorConfig initiator(Map<String, String> deviceConfig) throws SmException {
    String portal = required(deviceConfig, "target");
    String iqn = required(deviceConfig, "targetIQN");
    String user = deviceConfig.get("chapuser");
    String secret = deviceConfig.get("chappassword");
    if ((user == null || user.isBlank()) != (secret == null || secret.isBlank())) {
      throw new SmException(
          SmError.BAD_REQUEST, "device_config:chapuser and chappassword go together");
    }
    try {
      InitiatorConfig c = InitiatorConfig.forPortal(portal, iqn);
      return user == null || user.isBlank() ? c : c.withChap(user, secret);
    } catch (IllegalArgumentException e) {
      throw new SmException(SmError.BAD_REQUEST, "device_config:target: " + e.getMessage(), e);
    }
  }

  private static String required(Map<String, String> deviceConfig, String key) throws SmException {
    String v = deviceConfig.get(key);
    if (v == null || v.isBlank()) {
      throw new SmException(SmError.BAD_REQUEST, "device_config:" + key + " is required");
    }
    return v;
  }

  /** The record LUN of SR {@code srUuid}. */
  Lun record(ControlClient client, String srUuid) throws SmException {
    for (Lun lun : client.listLuns()) {
      if (LunMetadata.isRecordOf(lun, srUuid)) {
        return lun;
      }
    }
    throw new SmException(SmError.SR_UNAVAILABLE, "the array holds no SR " + srUuid);
  }

  @Override
  public void create(SrConfig config, long sizeBytes) throws SmException {
    initiator(config.deviceConfig());
    ControlClient client = client(config.deviceConfig());
    for (Lun lun : client.listLuns()) {
      if (LunMetadata.isRecordOf(lun, config.srUuid())) {
        throw new SmException(SmError.SR_IN_USE, "the array already holds SR " + config.srUuid());
      }
    }
    client.createLun(
        "xsm-sr-" + config.srUuid(), RECORD_SIZE_BYTES, LunMetadata.record(config.srUuid()));
  }

  @Override
  public void delete(SrConfig config) throws SmException {
    ControlClient client = client(config.deviceConfig());
    synchronized (attachedSrs) {
      if (attachedSrs.contains(config.srUuid())) {
        throw new SmException(SmError.SR_IN_USE, "SR " + config.srUuid() + " is attached");
      }
    }
    Lun record = record(client, config.srUuid());
    List<String> vdis = new ArrayList<>();
    for (Lun lun : client.listLuns()) {
      if (LunMetadata.isVdiOf(lun, config.srUuid())) {
        vdis.add(lun.id());
      }
    }
    if (!vdis.isEmpty()) {
      throw new SmException(
          SmError.SR_NOT_EMPTY, "SR " + config.srUuid() + " still has VDIs " + vdis);
    }
    client.deleteLun(record.id());
  }

  @Override
  public List<ProbeResult> probe(Map<String, String> deviceConfig) throws SmException {
    ControlClient client = client(deviceConfig);
    List<Lun> luns = client.listLuns();
    List<ProbeResult> found = new ArrayList<>();
    for (Lun record : luns) {
      if (LunMetadata.isRecord(record)) {
        String sr = record.metadata().get(LunMetadata.SR);
        long vdis = luns.stream().filter(l -> LunMetadata.isVdiOf(l, sr)).count();
        found.add(
            new ProbeResult(
                sr,
                Map.of(
                    "record-lun",
                    record.id(),
                    "vdis",
                    Long.toString(vdis),
                    "created",
                    String.valueOf(record.created()))));
      }
    }
    return found;
  }

  @Override
  public Sr attach(SrConfig config) throws SmException {
    InitiatorConfig initiator = initiator(config.deviceConfig());
    ControlClient client = client(config.deviceConfig());
    record(client, config.srUuid());
    synchronized (attachedSrs) {
      if (!attachedSrs.add(config.srUuid())) {
        throw new SmException(SmError.SR_IN_USE, "SR " + config.srUuid() + " is attached already");
      }
    }
    try {
      IscsiSession session = IscsiSession.login(initiator);
      return new IscsiSr(this, config.srUuid(), client, session);
    } catch (IOException | RuntimeException e) {
      detached(config.srUuid());
      throw new SmException(
          SmError.SR_UNAVAILABLE,
          "cannot log in to "
              + initiator.targetIqn()
              + " at "
              + initiator.portal()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  void detached(String srUuid) {
    synchronized (attachedSrs) {
      attachedSrs.remove(srUuid);
    }
  }
}
