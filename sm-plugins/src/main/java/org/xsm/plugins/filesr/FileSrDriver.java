package org.xsm.plugins.filesr;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.xsm.api.Capability;
import org.xsm.api.ConfigKey;
import org.xsm.api.ProbeResult;
import org.xsm.api.SmDriver;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.plugins.store.ImageStore;

/**
 * The base of drivers whose SRs are VHD trees in a directory (xapi's FileSR): EXT and NFS differ
 * only in how they reach the directory ({@link #openStore}). The SR's identity is the file {@code
 * .xsm-sr} in it (UUID, type, creation time).
 */
public abstract class FileSrDriver implements SmDriver {
  /**
   * What the VHD-tree base implements, for the capabilities of drivers over it that add nothing of
   * their own (EXT, NFS).
   */
  public static final Set<Capability> CAPABILITIES =
      Collections.unmodifiableSet(
          EnumSet.of(
              Capability.SR_CREATE,
              Capability.SR_DELETE,
              Capability.SR_ATTACH,
              Capability.SR_DETACH,
              Capability.SR_SCAN,
              Capability.SR_PROBE,
              Capability.SR_UPDATE,
              Capability.VDI_CREATE,
              Capability.VDI_DELETE,
              Capability.VDI_ATTACH,
              Capability.VDI_DETACH,
              Capability.VDI_ACTIVATE,
              Capability.VDI_DEACTIVATE,
              Capability.VDI_CLONE,
              Capability.VDI_SNAPSHOT,
              Capability.VDI_RESIZE,
              Capability.VDI_UPDATE,
              Capability.VDI_GENERATE_CONFIG,
              Capability.VDI_CONFIG_CBT,
              Capability.THIN_PROVISIONING,
              Capability.ATOMIC_PAUSE));

  /**
   * A driver's own {@code device_config} keys followed by the garbage collector's ({@link
   * GcSettings#CONFIG_KEYS}), for its {@code DriverInfo}.
   */
  protected static List<ConfigKey> withGcKeys(ConfigKey... own) {
    List<ConfigKey> all = new java.util.ArrayList<>(List.of(own));
    all.addAll(GcSettings.CONFIG_KEYS);
    all.add(
        new ConfigKey(
            FileSr.PREFERRED_FORMATS_KEY,
            "Image formats of new VDIs, most preferred first (vhd, qcow2); without it, and"
                + " without sm_config image-format, VDIs above 2040 GiB are qcow2, others VHD",
            false));
    return List.copyOf(all);
  }

  static final String SR_FILE = ".xsm-sr";
  private static final Set<String> ATTACHED = ConcurrentHashMap.newKeySet();
  private static final Duration STORE_LOCK_LEASE = Duration.ofSeconds(30);
  private static final Duration STORE_LOCK_WAIT = Duration.ofMinutes(2);

  /**
   * The store of the SR's directory.
   *
   * @param deviceConfig the PBD's configuration
   * @throws SmException {@link SmError#BAD_REQUEST} for bad configuration, {@link
   *     SmError#SR_UNAVAILABLE} if the storage cannot be reached
   */
  protected abstract ImageStore openStore(Map<String, String> deviceConfig) throws SmException;

  /**
   * The store of the SR that {@code config} names. By default the SR is the whole directory of
   * {@link #openStore(Map)}; drivers that keep each SR in a directory of its own (NFS: {@code
   * serverpath/<sr_uuid>}) override this.
   *
   * @param creating true for {@code SR.create} only: a missing SR directory is made
   */
  protected ImageStore openStore(SrConfig config, boolean creating) throws SmException {
    return openStore(config.deviceConfig());
  }

  private Map<String, String> identity(ImageStore store) throws SmException {
    try {
      return PropertiesFile.read(store, SR_FILE);
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_UNAVAILABLE, "reading " + store.describe(SR_FILE));
    }
  }

  @Override
  public void create(SrConfig config, long sizeBytes) throws SmException {
    ImageStore store = openStore(config, true);
    Map<String, String> id = identity(store);
    if (id != null) {
      throw new SmException(
          SmError.SR_IN_USE,
          store.describe("") + " already holds SR " + id.get("uuid") + "; delete it first");
    }
    Map<String, String> m = new TreeMap<>();
    m.put("uuid", config.srUuid());
    m.put("type", info().type());
    m.put("created", Instant.now().toString());
    try {
      PropertiesFile.write(store, SR_FILE, m);
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SHARED_FS_NO_WRITE, "creating SR in " + store.describe(""));
    }
  }

  private ImageStore ownStore(SrConfig config) throws SmException {
    ImageStore store = openStore(config, false);
    Map<String, String> id = identity(store);
    if (id == null) {
      throw new SmException(
          SmError.SR_UNAVAILABLE, "no SR in " + store.describe("") + " (create one first)");
    }
    if (!config.srUuid().equals(id.get("uuid"))) {
      throw new SmException(
          SmError.SR_UNAVAILABLE,
          store.describe("") + " holds SR " + id.get("uuid") + ", not " + config.srUuid());
    }
    return store;
  }

  @Override
  public void delete(SrConfig config) throws SmException {
    ImageStore store = ownStore(config);
    if (ATTACHED.contains(store.describe(SR_FILE))) {
      throw new SmException(SmError.SR_IN_USE, "SR " + config.srUuid() + " is attached");
    }
    // The garbage collector runs to completion first, so that base copies left by deleted
    // VDIs do not keep the SR "not empty" (xapi sm#583).
    new FileSr(store, info(), config.srUuid(), () -> {}).collectGarbage();
    try {
      VhdTree tree = VhdTree.read(store);
      for (VhdTree.Node n : tree.nodes()) {
        if (!tree.isGarbage(n)) {
          throw new SmException(
              SmError.SR_NOT_EMPTY, "SR " + config.srUuid() + " still holds VDI " + n.uuid);
        }
      }
      for (String name : store.list()) {
        if (name.endsWith(".cbtlog")) {
          throw new SmException(
              SmError.SR_NOT_EMPTY, "SR " + config.srUuid() + " still holds CBT log " + name);
        }
      }
      for (String name : store.list()) {
        if (!name.equals(SR_FILE)
            && (VhdTree.isImageName(name) || name.endsWith(".meta") || name.startsWith("."))) {
          store.delete(name);
        }
      }
      store.delete(SR_FILE);
      store.syncMetadata();
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.GENERAL, "delete of SR " + config.srUuid());
    }
  }

  @Override
  public List<ProbeResult> probe(Map<String, String> deviceConfig) throws SmException {
    return probeStore(openStore(deviceConfig));
  }

  /** The SR a store holds, as {@code sr_probe} reports it: none or one. */
  protected List<ProbeResult> probeStore(ImageStore store) throws SmException {
    Map<String, String> id = identity(store);
    if (id == null) {
      return List.of();
    }
    Map<String, String> details = new TreeMap<>(id);
    details.remove("uuid");
    return List.of(new ProbeResult(id.get("uuid"), details));
  }

  /**
   * Whether several hosts may attach one SR at once (a shared SR, such as NFS). If so the SR lock
   * also takes a lock file on the store ({@link StoreLock}), so that tree changes and their
   * operation logs are serialised across hosts, and attach recovers under that lock.
   */
  protected boolean sharedAcrossHosts() {
    return false;
  }

  @Override
  public Sr attach(SrConfig config) throws SmException {
    ImageStore store = ownStore(config);
    String key = store.describe(SR_FILE);
    if (!ATTACHED.add(key)) {
      throw new SmException(SmError.SR_IN_USE, "SR " + config.srUuid() + " is already attached");
    }
    try {
      FileSr sr = new FileSr(store, info(), config.srUuid(), () -> ATTACHED.remove(key));
      sr.preferFormats(config.deviceConfig());
      if (sharedAcrossHosts()) {
        sr.shareLock(new StoreLock(store, STORE_LOCK_LEASE, STORE_LOCK_WAIT));
      }
      // Under the SR lock: on shared storage, another host's running operation is not rolled back.
      sr.locked(
          () -> {
            sr.recover();
            return null;
          });
      sr.startGc(GcSettings.of(config));
      return sr;
    } catch (SmException | RuntimeException e) {
      ATTACHED.remove(key);
      throw e;
    }
  }
}
