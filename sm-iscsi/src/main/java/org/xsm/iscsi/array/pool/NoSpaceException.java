package org.xsm.iscsi.array.pool;

import java.io.IOException;

/** The pool has no free block left; SCSI reports DATA PROTECT / SPACE ALLOCATION FAILED. */
public final class NoSpaceException extends IOException {
  NoSpaceException(String message) {
    super(message);
  }
}
