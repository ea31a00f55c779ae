package org.xsm.server.vdi;

import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.function.DoubleConsumer;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;

/** Copies the allocated blocks of one device to another, holes skipped. */
final class BlockCopy {
  private BlockCopy() {}

  static void copy(VdiDevice in, VdiDevice out, DoubleConsumer progress) throws SmException {
    int g = in.allocationBlockSizeBytes();
    ByteBuffer buf = ByteBuffer.allocate(g);
    BitSet blocks = in.allocatedBlocks();
    int total = Math.max(1, blocks.cardinality());
    int copied = 0;
    for (int b = blocks.nextSetBit(0); b >= 0; b = blocks.nextSetBit(b + 1)) {
      progress.accept((double) copied++ / total);
      long off = (long) b * g;
      int len = (int) Math.min(g, in.sizeBytes() - off);
      if (len <= 0) {
        break;
      }
      buf.clear().limit(len);
      in.read(buf, off);
      buf.flip();
      out.write(buf, off);
    }
    out.flush();
  }
}
