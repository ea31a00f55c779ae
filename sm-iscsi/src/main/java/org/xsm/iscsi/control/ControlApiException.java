package org.xsm.iscsi.control;

import org.xsm.api.SmError;
import org.xsm.api.SmException;

/**
 * A failed control API call: the SM error it maps to, and the array's own error code ({@code
 * NOT_FOUND}, {@code BAD_REQUEST}, {@code NO_SPACE}, {@code CONFLICT}, {@code UNAUTHORIZED}), or
 * null when the array was not reached or answered something unreadable.
 */
public class ControlApiException extends SmException {
  private static final long serialVersionUID = 1L;
  private final String apiError;
  private final int httpStatus;

  public ControlApiException(
      SmError error, String apiError, int httpStatus, String message, Throwable cause) {
    super(error, message, cause);
    this.apiError = apiError;
    this.httpStatus = httpStatus;
  }

  /** The array's error code, or null. */
  public String apiError() {
    return apiError;
  }

  /** The HTTP status, or 0 when there was no answer. */
  public int httpStatus() {
    return httpStatus;
  }
}
