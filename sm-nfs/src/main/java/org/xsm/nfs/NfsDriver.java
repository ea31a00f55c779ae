package org.xsm.nfs;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.xsm.api.ConfigKey;
import org.xsm.api.DriverInfo;
import org.xsm.api.ProbeResult;
import org.xsm.api.SmDriver;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SrConfig;
import org.xsm.nfs.client.FileHandle;
import org.xsm.nfs.client.Nfs3Client;
import org.xsm.nfs.client.NfsException;
import org.xsm.nfs.client.NfsStatus;
import org.xsm.plugins.filesr.FileSrDriver;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.LocalImageStore;

/**
 * The NFS backend (SR type {@code nfs}), as xapi's NFSSR: each SR is the directory {@code
 * serverpath/<sr_uuid>} of an NFSv3 export, holding the same VHD tree as an EXT SR. The export is
 * spoken to directly with this module's NFSv3 client ({@link NfsImageStore}); with {@code
 * device_config:mountpoint} instead of {@code server}, the export is one the kernel already mounted
 * there and the SR is {@code mountpoint/<sr_uuid>}, used like a local directory.
 *
 * <p>An NFS SR is shared: several hosts may attach it at once, so its tree-changing operations also
 * take the lock file {@code .xsm-lock} on the export ({@link #sharedAcrossHosts()}).
 */
public final class NfsDriver extends FileSrDriver {
  static final String WRITE_TEST = ".xsm-write-test";

  private static final DriverInfo INFO =
      new DriverInfo(
          "nfs",
          "NFS VHD",
          "VHD files on an NFSv3 export, spoken to directly (no kernel mount), as xapi's NFSSR",
          "xsm",
          "(C) the xsm authors",
          "1.0",
          SmDriver.API_VERSION,
          FileSrDriver.CAPABILITIES,
          withGcKeys(
              new ConfigKey("server", "NFS server host name or address", false),
              new ConfigKey(
                  "serverpath",
                  "Exported path on the server; the SR is the directory serverpath/<sr_uuid>",
                  false),
              new ConfigKey("nfsversion", "NFS version: only 3 is supported (the default)", false),
              new ConfigKey(
                  "options",
                  "Comma-separated options: timeo (tenths of a second per attempt, default 50),"
                      + " retrans (default 3), port, mountport, pmapport",
                  false),
              new ConfigKey(
                  "mountpoint",
                  "Instead of server and serverpath: a directory where the export is already"
                      + " mounted; the SR is mountpoint/<sr_uuid>",
                  false)),
          List.of("vhd", "qcow2"));

  @Override
  public DriverInfo info() {
    return INFO;
  }

  @Override
  protected boolean sharedAcrossHosts() {
    return true;
  }

  @Override
  protected ImageStore openStore(Map<String, String> deviceConfig) throws SmException {
    throw new SmException(SmError.BAD_REQUEST, "an NFS SR is opened with its SR UUID");
  }

  @Override
  protected ImageStore openStore(SrConfig config, boolean creating) throws SmException {
    String srUuid = config.srUuid();
    if (srUuid.isEmpty() || srUuid.contains("/") || srUuid.startsWith(".")) {
      throw new SmException(SmError.BAD_REQUEST, "bad SR UUID '" + srUuid + "'");
    }
    Map<String, String> dc = config.deviceConfig();
    ImageStore store;
    if (isMounted(dc)) {
      Path dir = mountpoint(dc).resolve(srUuid);
      try {
        if (creating) {
          Files.createDirectories(dir);
        }
        store = LocalImageStore.open(dir);
      } catch (IOException e) {
        throw new SmException(SmError.SR_UNAVAILABLE, "cannot open " + dir + ": " + e, e);
      }
    } else {
      NfsMount mount = NfsMounts.mount(dc);
      try {
        FileHandle dir = mount.directory(srUuid, creating);
        int wanted = Nfs3Client.ACCESS_MODIFY | Nfs3Client.ACCESS_EXTEND;
        if ((mount.client().access(dir, wanted) & wanted) != wanted) {
          throw new SmException(
              SmError.SHARED_FS_NO_WRITE,
              mount.describe(srUuid) + " is not writable for this client (NFS ACCESS)");
        }
        store = mount.store(dir, srUuid);
      } catch (NoSuchFileException e) {
        throw new SmException(
            SmError.SR_UNAVAILABLE, "no SR directory " + mount.describe(srUuid), e);
      } catch (java.nio.file.AccessDeniedException | NfsException e) {
        if (e instanceof NfsException n && n.status() != NfsStatus.ROFS) {
          throw NfsMounts.failure(n, mount.describe(srUuid));
        }
        throw new SmException(
            SmError.SHARED_FS_NO_WRITE, mount.describe(srUuid) + " is not writable: " + e, e);
      } catch (IOException e) {
        throw NfsMounts.failure(e, mount.describe(srUuid));
      }
    }
    checkWritable(store);
    return store;
  }

  /**
   * Creates and removes a file: the export must be writable (xapi's NFSSR check, error 461). A full
   * export is writable: the probe's byte finding no space does not keep the SR from attaching (its
   * VDIs can be read, deleted to free space; writes that need space fail with SR_BACKEND_FAILURE_44
   * until there is some).
   */
  static void checkWritable(ImageStore store) throws SmException {
    String name = WRITE_TEST + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    try {
      boolean created = false;
      try {
        try (ImageFile f = store.create(name)) {
          created = true;
          f.writeFully(java.nio.ByteBuffer.wrap(new byte[] {1}), 0);
        }
      } catch (IOException e) {
        if (!noSpace(e)) {
          throw e;
        }
      } finally {
        if (created) {
          store.delete(name);
        }
      }
    } catch (IOException e) {
      if (e instanceof org.xsm.nfs.rpc.RpcException) {
        throw NfsMounts.failure(e, store.describe(""));
      }
      throw new SmException(
          SmError.SHARED_FS_NO_WRITE, store.describe("") + " is not writable: " + e, e);
    }
  }

  /** Whether a write failed only for want of space (NFS NOSPC or DQUOT, or the local ENOSPC). */
  static boolean noSpace(IOException e) {
    if (e instanceof NfsException n) {
      return n.status() == NfsStatus.NOSPC || n.status() == NfsStatus.DQUOT;
    }
    String m = String.valueOf(e.getMessage());
    return m.contains("No space left on device") || m.contains("Disk quota exceeded");
  }

  private static boolean isMounted(Map<String, String> dc) throws SmException {
    boolean mounted = dc.containsKey("mountpoint");
    if (mounted && dc.containsKey("server")) {
      throw new SmException(
          SmError.BAD_REQUEST, "device_config: give either mountpoint or server, not both");
    }
    return mounted;
  }

  private static Path mountpoint(Map<String, String> dc) throws SmException {
    Path p = Path.of(dc.get("mountpoint"));
    if (!Files.isDirectory(p)) {
      throw new SmException(
          SmError.SR_UNAVAILABLE, "device_config:mountpoint " + p + " is not a directory");
    }
    return p;
  }

  /** Deletes the SR's files, then its directory. */
  @Override
  public void delete(SrConfig config) throws SmException {
    super.delete(config);
    Map<String, String> dc = config.deviceConfig();
    try {
      if (isMounted(dc)) {
        Files.delete(mountpoint(dc).resolve(config.srUuid()));
      } else {
        NfsMount mount = NfsMounts.mount(dc);
        mount.client().rmdir(mount.directory("", false), config.srUuid());
      }
    } catch (NoSuchFileException e) {
      // Already gone: the SR is deleted, which is what was asked.
    } catch (DirectoryNotEmptyException e) {
      throw new SmException(
          SmError.SR_NOT_EMPTY,
          "SR " + config.srUuid() + " directory holds files this driver did not make",
          e);
    } catch (IOException e) {
      throw NfsMounts.failure(e, "SR directory " + config.srUuid());
    }
  }

  /**
   * Lists the SRs on the export: the subdirectories of {@code serverpath} that hold an SR. Without
   * {@code serverpath}, fails with the server's export list in the message.
   */
  @Override
  public List<ProbeResult> probe(Map<String, String> deviceConfig) throws SmException {
    List<String> dirs;
    if (isMounted(deviceConfig)) {
      dirs = new ArrayList<>();
      try (var s = Files.list(mountpoint(deviceConfig))) {
        s.filter(Files::isDirectory).forEach(p -> dirs.add(p.getFileName().toString()));
      } catch (IOException e) {
        throw new SmException(SmError.SR_UNAVAILABLE, "cannot list the mount point: " + e, e);
      }
    } else {
      NfsMount mount = NfsMounts.mount(deviceConfig);
      try {
        dirs = mount.store(mount.root(), "").directories();
      } catch (IOException e) {
        throw NfsMounts.failure(e, mount.describe(""));
      }
    }
    List<ProbeResult> out = new ArrayList<>();
    for (String d : dirs) {
      Map<String, String> dc = new TreeMap<>(deviceConfig);
      for (ProbeResult r : probeOne(new SrConfig(d, dc))) {
        if (r.srUuid().equals(d)) {
          out.add(r);
        }
      }
    }
    return out;
  }

  private List<ProbeResult> probeOne(SrConfig config) throws SmException {
    ImageStore store;
    try {
      store = openStoreReadOnly(config);
    } catch (SmException e) {
      return List.of(); // not an SR directory
    }
    return probeStore(store);
  }

  private ImageStore openStoreReadOnly(SrConfig config) throws SmException {
    Map<String, String> dc = config.deviceConfig();
    try {
      if (isMounted(dc)) {
        return LocalImageStore.open(mountpoint(dc).resolve(config.srUuid()));
      }
      NfsMount mount = NfsMounts.mount(dc);
      return mount.store(mount.directory(config.srUuid(), false), config.srUuid());
    } catch (IOException e) {
      throw NfsMounts.failure(e, config.srUuid());
    }
  }
}
