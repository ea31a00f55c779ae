package org.xsm.server.sr;

import java.util.Map;
import org.xsm.server.model.Host;
import org.xsm.server.model.Ref;
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
}
