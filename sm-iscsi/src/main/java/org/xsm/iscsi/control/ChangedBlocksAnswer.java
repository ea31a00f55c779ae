package org.xsm.iscsi.control;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Base64;
import java.util.BitSet;

/**
 * The array's answer to a changed-blocks query.
 *
 * @param blockSizeBytes bytes per bit of the bitmap
 * @param sizeBytes size of the later LUN, which the bitmap covers
 * @param changedBlocks number of bits set
 * @param bitmap base64; bit {@code i} (most significant bit of each byte first) set if block {@code
 *     i} changed
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ChangedBlocksAnswer(
    int blockSizeBytes, long sizeBytes, long changedBlocks, String bitmap) {

  /** The bitmap as a {@link BitSet} (bit i = block i). */
  public BitSet changed() {
    byte[] bytes = Base64.getDecoder().decode(bitmap == null ? "" : bitmap);
    BitSet out = new BitSet(bytes.length * 8);
    for (int i = 0; i < bytes.length * 8; i++) {
      if ((bytes[i >>> 3] & (0x80 >>> (i & 7))) != 0) {
        out.set(i);
      }
    }
    return out;
  }
}
