package org.xsm.server.xva;

import java.io.IOException;

/** An archive that is not a valid XVA: a bad tar header, an unexpected file, a bad ova.xml. */
class XvaFormatException extends IOException {
  XvaFormatException(String message) {
    super(message);
  }
}
