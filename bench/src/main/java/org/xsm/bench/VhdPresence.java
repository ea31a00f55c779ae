package org.xsm.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What a dynamic or differencing VHD file holds as data: the blocks its BAT allocates and the bytes
 * their sector bitmaps mark present (what a reader of the chain takes from this file, and what an
 * import or vhd-lib's merge writes). Read from the file's header, BAT and bitmaps only.
 */
record VhdPresence(int blocks, long presentBytes) {
  static VhdPresence of(Path vhd) throws IOException {
    try (FileChannel ch = FileChannel.open(vhd, StandardOpenOption.READ)) {
      ByteBuffer header = read(ch, 512, 1024);
      long tableOffset = header.getLong(16);
      int entries = header.getInt(28);
      int blockBytes = header.getInt(32);
      int bitmapBytes = (blockBytes / 512 / 8 + 511) / 512 * 512;
      ByteBuffer bat = read(ch, tableOffset, 4L * entries);
      int blocks = 0;
      long present = 0;
      for (int i = 0; i < entries; i++) {
        int sector = bat.getInt(4 * i);
        if (sector == -1) {
          continue;
        }
        blocks++;
        ByteBuffer bitmap = read(ch, (sector & 0xffffffffL) * 512, bitmapBytes);
        for (int b = 0; b < blockBytes / 512 / 8; b++) {
          present += 512L * Integer.bitCount(bitmap.get(b) & 0xff);
        }
      }
      return new VhdPresence(blocks, present);
    }
  }

  private static ByteBuffer read(FileChannel ch, long at, long length) throws IOException {
    ByteBuffer b = ByteBuffer.allocate((int) length);
    while (b.hasRemaining()) {
      if (ch.read(b, at + b.position()) < 0) {
        throw new IOException("VHD ends at " + (at + b.position()));
      }
    }
    return b.flip();
  }
}
