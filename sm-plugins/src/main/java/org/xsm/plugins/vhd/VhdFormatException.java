package org.xsm.plugins.vhd;

import java.io.IOException;

/**
 * A VHD file, or a chain of them, breaks the format or the engine's rules. The message names the
 * file and the exact check that failed, e.g. "VHD footer checksum mismatch in /sr/a.vhd: stored
 * 0x..., computed 0x...".
 */
public class VhdFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public VhdFormatException(String message) {
    super(message);
  }
}
