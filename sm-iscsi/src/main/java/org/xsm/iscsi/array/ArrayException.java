package org.xsm.iscsi.array;

/**
 * The one exception of the array's control path, carrying a typed {@link Kind} that the control API
 * maps to an HTTP status and the SCSI layer maps to sense data.
 */
public final class ArrayException extends RuntimeException {
  /** Error kinds; the names are the {@code error} field of the control API's JSON errors. */
  public enum Kind {
    NOT_FOUND(404),
    BAD_REQUEST(400),
    NO_SPACE(507),
    CONFLICT(409),
    UNAUTHORIZED(401);

    private final int httpStatus;

    Kind(int httpStatus) {
      this.httpStatus = httpStatus;
    }

    /** The HTTP status the control API answers with. */
    public int httpStatus() {
      return httpStatus;
    }
  }

  private final Kind kind;

  public ArrayException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
