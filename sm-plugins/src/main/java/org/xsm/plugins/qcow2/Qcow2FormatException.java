package org.xsm.plugins.qcow2;

import java.io.IOException;

/**
 * A qcow2 file that does not follow the format, or that uses a part of it this engine does not
 * support. The message names the file and the one check that failed.
 */
public class Qcow2FormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public Qcow2FormatException(String message) {
    super(message);
  }
}
