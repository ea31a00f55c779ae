package org.xsm.plugins.vhd.tool;

/** Bad command-line input: reported with the usage text, exit status 2. */
final class UsageException extends Exception {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
