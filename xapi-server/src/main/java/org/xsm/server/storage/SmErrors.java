package org.xsm.server.storage;

import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.server.rpc.XenApiException;

/** SM failures as xapi surfaces them to clients. */
final class SmErrors {
  private SmErrors() {}

  static XenApiException of(SmException e, String ref) {
    SmError err = e.error();
    String name = err.xenApiName();
    return switch (err) {
      case VDI_IN_USE, VDI_MISSING -> new XenApiException(name, ref);
      case SR_NOT_EMPTY, SR_IN_USE, UNKNOWN_DRIVER, SR_NOT_ATTACHED ->
          new XenApiException(name, e.getMessage());
      case UNIMPLEMENTED -> new XenApiException(name, e.getMessage());
      case VDI_NO_CBT_METADATA -> new XenApiException(name, ref);
      default -> new XenApiException(name, "", e.getMessage(), "");
    };
  }
}
