package org.xsm.server.sr;

import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.server.model.XenApiException;

/** SM failures as xapi surfaces them to clients. */
public final class SmErrors {
  private SmErrors() {}

  public static XenApiException of(SmException e, String ref) {
    SmError err = e.error();
    String name = err.xenApiName();
    return switch (err) {
      case VDI_IN_USE, VDI_MISSING -> XenApiException.withCode(name, ref);
      case SR_NOT_EMPTY, SR_IN_USE, UNKNOWN_DRIVER, SR_NOT_ATTACHED ->
          XenApiException.withCode(name, e.getMessage());
      case UNIMPLEMENTED -> XenApiException.withCode(name, e.getMessage());
      case VDI_NO_CBT_METADATA -> XenApiException.withCode(name, ref);
      default -> XenApiException.withCode(name, "", e.getMessage(), "");
    };
  }
}
