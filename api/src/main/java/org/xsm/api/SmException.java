package org.xsm.api;

/**
 * The one exception of the SPI: a stable {@link SmError} code and a message saying what failed and
 * why. Operations that throw it leave the SR's data and metadata consistent.
 */
public class SmException extends Exception {
  private static final long serialVersionUID = 1L;
  private final SmError error;

  public SmException(SmError error, String message) {
    super(message);
    this.error = error;
  }

  public SmException(SmError error, String message, Throwable cause) {
    super(message, cause);
    this.error = error;
  }

  public SmError error() {
    return error;
  }

  /** The standard failure of an operation the driver does not advertise. */
  public static SmException unsupported(String operation) {
    return new SmException(SmError.UNIMPLEMENTED, "This driver does not support " + operation);
  }

  @Override
  public String toString() {
    return error.xenApiName() + ": " + getMessage();
  }
}
