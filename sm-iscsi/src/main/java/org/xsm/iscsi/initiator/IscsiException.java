package org.xsm.iscsi.initiator;

import java.io.IOException;

/**
 * A failure of the iSCSI protocol itself: a refused login, a broken PDU, a target that violates the
 * protocol. Retrying on a new connection may help; {@link #retryable()} says whether the session
 * layer should try.
 */
public class IscsiException extends IOException {
  private static final long serialVersionUID = 1L;
  private final boolean retryable;

  public IscsiException(String message) {
    this(message, false, null);
  }

  public IscsiException(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  /** Whether the same request may succeed on a new connection (lost connection, timeout). */
  public boolean retryable() {
    return retryable;
  }
}
