package org.xsm.plugins.conformance;

import java.nio.ByteBuffer;
import org.xsm.api.Sr;
import org.xsm.api.VdiDevice;

/** Whole-disk reads through a driver's own block device, for tests that compare disk contents. */
public final class VdiBytes {
  private VdiBytes() {}

  /**
   * Every byte of a detached VDI, read through its device: attached read-only, activated, read,
   * detached again.
   */
  public static byte[] readAll(Sr sr, String location) throws Exception {
    sr.attachVdi(location, false);
    try {
      VdiDevice d = sr.activateVdi(location);
      ByteBuffer b = ByteBuffer.allocate((int) d.sizeBytes());
      d.read(b, 0);
      return b.array();
    } finally {
      sr.detachVdi(location);
    }
  }
}
