package org.xsm.plugins.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.xsm.plugins.store.ImageFile;

/**
 * Reads of guest data of a qcow2 file: at host offsets (plain and compressed clusters) and of the
 * clusters the file itself holds.
 */
final class HostReads {
  private HostReads() {}

  /** Reads guest data from host offset {@code host}; bytes past the file end read as zeros. */
  static void readData(ImageFile file, ByteBuffer dst, long host) throws IOException {
    long pos = host;
    while (dst.hasRemaining()) {
      int n = file.read(dst, pos);
      if (n < 0) {
        while (dst.hasRemaining()) {
          dst.put((byte) 0);
        }
        return;
      }
      pos += n;
    }
  }

  /** Inflates compressed cluster {@code entry} and puts bytes {@code from..} of it into dst. */
  static void readCompressed(
      ImageFile file, String where, Qcow2Header h, long entry, int from, ByteBuffer dst)
      throws IOException {
    int bits = h.clusterBits();
    ByteBuffer raw = ByteBuffer.allocate(Entries.compressedBytes(entry, bits));
    readData(file, raw, Entries.compressedOffset(entry, bits));
    byte[] cluster = new byte[h.clusterSize()];
    Inflater inf = new Inflater(true);
    try {
      inf.setInput(raw.array());
      int n = inf.inflate(cluster);
      if (n != cluster.length) {
        throw Qcow2Header.bad(
            where,
            "compressed cluster at 0x"
                + Long.toHexString(Entries.compressedOffset(entry, bits))
                + " inflates to "
                + n
                + " bytes");
      }
    } catch (DataFormatException e) {
      throw Qcow2Header.bad(
          where, "compressed cluster is not valid deflate data: " + e.getMessage());
    } finally {
      inf.end();
    }
    dst.put(cluster, from, dst.remaining());
  }

  /** See {@link Qcow2Image#readOwn}. */
  static boolean readOwn(Qcow2Image img, ByteBuffer dst, long offset) throws IOException {
    int cs = img.clusterSize();
    int in = (int) (offset & (cs - 1));
    if (in + dst.remaining() > cs) {
      throw new IllegalArgumentException(
          "read of " + dst.remaining() + " bytes at " + offset + " crosses a cluster");
    }
    long e = img.entry(offset >> img.clusterBits());
    if (Entries.isUnallocated(e)) {
      return false;
    }
    if (Entries.isZero(e)) {
      while (dst.hasRemaining()) {
        dst.put((byte) 0);
      }
    } else if (Entries.isCompressed(e)) {
      img.readCompressed(e, in, dst);
    } else {
      img.readData(dst, Entries.hostOffset(e) + in);
    }
    return true;
  }
}
