package org.xsm.server.guest;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** A writer of "newc" cpio archives (what the kernel unpacks as an initramfs). */
final class Cpio implements AutoCloseable {
  private final OutputStream out;
  private long written;
  private int inode = 1;

  Cpio(OutputStream out) {
    this.out = out;
  }

  void directory(String name) throws IOException {
    entry(name, 0040755, new byte[0]);
  }

  void file(String name, int perm, byte[] data) throws IOException {
    entry(name, 0100000 | perm, data);
  }

  private void entry(String name, int mode, byte[] data) throws IOException {
    byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
    StringBuilder h = new StringBuilder("070701");
    long[] fields = {inode++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, n.length, 0};
    for (long f : fields) {
      h.append(String.format("%08X", f));
    }
    write(h.toString().getBytes(StandardCharsets.US_ASCII));
    write(n);
    pad();
    write(data);
    pad();
  }

  private void write(byte[] b) throws IOException {
    out.write(b);
    written += b.length;
  }

  private void pad() throws IOException {
    while (written % 4 != 0) {
      write(new byte[1]);
    }
  }

  @Override
  public void close() throws IOException {
    entry("TRAILER!!!", 0, new byte[0]);
    out.close();
  }
}
