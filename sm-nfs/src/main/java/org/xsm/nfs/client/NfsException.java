package org.xsm.nfs.client;

import java.io.IOException;

/** An NFSv3 or MOUNTv3 call the server answered with an error status (nfsstat3, mountstat3). */
public final class NfsException extends IOException {
  private final int status;

  public NfsException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The status the server returned. */
  public int status() {
    return status;
  }
}
