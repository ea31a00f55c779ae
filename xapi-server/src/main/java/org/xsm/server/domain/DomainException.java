package org.xsm.server.domain;

/**
 * A domain operation failed; {@link #reason()} says how, so callers can map it to xapi's errors.
 */
public final class DomainException extends Exception {
  /** Why it failed. */
  public enum Reason {
    /** The guest did not shut down within the timeout (xapi's VM_SHUTDOWN_TIMEOUT). */
    SHUTDOWN_TIMEOUT,
    /** There is no such domain (it died, or never existed). */
    NO_DOMAIN,
    /** The hypervisor refused or failed (details in the message). */
    FAILED
  }

  private final Reason reason;

  public DomainException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public DomainException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
