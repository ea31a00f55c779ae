package org.xsm.plugins.filesr;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.plugins.vhd.VhdFormatException;

/** Maps I/O failures to {@link SmException}s with the right code. */
final class SmErrors {
  private SmErrors() {}

  /**
   * @param fallback the code of the operation that failed (e.g. VDI_SNAPSHOT)
   * @param what what was being done, for the message
   */
  static SmException of(IOException e, SmError fallback, String what) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (m.contains("No space left on device") || m.contains("Disk quota exceeded")) {
      return new SmException(SmError.SR_NO_SPACE, what + ": the SR is full (" + m + ")", e);
    }
    if (e instanceof VhdFormatException) {
      return new SmException(fallback, what + ": " + m, e);
    }
    if (e instanceof NoSuchFileException) {
      return new SmException(fallback, what + ": missing file " + m, e);
    }
    return new SmException(fallback, what + ": " + m, e);
  }
}
