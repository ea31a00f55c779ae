package org.xsm.nfs.rpc;

import java.io.IOException;

/** Malformed XDR data: a reply that does not decode as the protocol says. */
public final class XdrException extends IOException {
  public XdrException(String message) {
    super(message);
  }
}
