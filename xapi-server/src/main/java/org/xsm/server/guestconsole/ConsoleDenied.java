package org.xsm.server.guestconsole;

/**
 * Why a console connection is refused, as an HTTP status and xapi's error code: 400 no {@code ref}
 * or {@code uuid}, 401 no valid session, 403 a role without {@code http/connect_console}, 404 no
 * such console or VM, or a VM that is not running or has no such console here, 502 the domain's
 * endpoint refused the connection.
 */
public final class ConsoleDenied extends Exception {
  private final int status;
  private final String code;

  ConsoleDenied(int status, String code, String message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  ConsoleDenied(int status, String code, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }
}
