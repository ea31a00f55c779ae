package org.xsm.server.sr;

import java.util.Map;
import org.xsm.server.model.Host;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.XenApiException;

/**
 * The SRs of another host of the pool, plugged through that host's agent (implemented by the pool
 * feature): a shared SR has a PBD per host, and each host attaches it with its own driver.
 */
public interface HostStorage {
  /** Whether {@code host} is another host of the pool than this one. */
  boolean isOtherHost(Ref<Host> host);

  /** Attaches the SR on {@code host}. */
  void plug(
      Ref<Host> host,
      String srUuid,
      String type,
      Map<String, String> deviceConfig,
      Map<String, String> otherConfig)
      throws XenApiException;

  /** Detaches the SR on {@code host}. */
  void unplug(Ref<Host> host, String srUuid) throws XenApiException;

  /**
   * Attaches and activates a VDI on {@code host} for its domains, exported on that host's local NBD
   * socket under the VDI's UUID. This host, the SR master, first registers it with its own plugin
   * ({@code Sr.activeElsewhere}), so that its changes of the VDI's chain suspend it there.
   * Attaching a VDI already attached there changes nothing.
   */
  void attachVdi(Ref<Host> host, Ref<Vdi> vdi, boolean writable) throws XenApiException;

  /** Detaches the VDI on {@code host} (a host not live: only forgotten) and unregisters it. */
  void detachVdi(Ref<Host> host, Ref<Vdi> vdi) throws XenApiException;

  /** Forgets a VDI that was active on a host now dead (its agent is not asked). */
  void forgetVdi(Ref<Vdi> vdi);

  /**
   * Opens the VDI's chain on {@code host} again as the storage has it (a migration's destination,
   * whose device was opened before the source's last writes).
   */
  void reopenVdi(Ref<Host> host, Ref<Vdi> vdi) throws XenApiException;
}
