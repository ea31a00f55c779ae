package org.xsm.iscsi.array.pool;

import java.io.IOException;

/** A write to a read-only (snapshot) LUN; SCSI reports DATA PROTECT / WRITE PROTECTED. */
public final class ReadOnlyException extends IOException {
  ReadOnlyException(String message) {
    super(message);
  }
}
