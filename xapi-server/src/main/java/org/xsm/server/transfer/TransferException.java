package org.xsm.server.transfer;

/**
 * A transfer refused or failed: the HTTP status, a XenAPI-style error code for the task's {@code
 * error_info}, and a message naming what was wrong.
 */
final class TransferException extends Exception {
  final int status;
  final String code;

  TransferException(int status, String code, String message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** Bad input from the client: wrong size, wrong format, truncated upload. */
  static TransferException badInput(String message) {
    return new TransferException(400, "IMPORT_ERROR", message);
  }
}
