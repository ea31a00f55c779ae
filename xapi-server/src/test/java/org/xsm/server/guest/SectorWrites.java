package org.xsm.server.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * A guest that keeps writing its disk while something happens to it (a migration, a snapshot): in
 * the background, sector i gets "P&lt;i&gt;\n", each write flushed (fsync) before the tick ({@code
 * <T i>}) that counts it on the serial console. The counter lives in the shell's memory only, so a
 * counter that goes on after a move shows the guest's RAM moved.
 */
public final class SectorWrites {
  private SectorWrites() {}

  /** Starts the loop on the guest's shell. */
  public static void start(SerialConsole c, Duration timeout)
      throws IOException, InterruptedException {
    c.run(
        "touch /tmp/run; (i=0; while [ -e /tmp/run ]; do"
            + " echo P$i | dd of=/dev/vda bs=512 seek=$i count=1 conv=sync,fsync 2>/dev/null"
            + " || echo $i >> /tmp/ioerr; echo \"<T$i>\"; i=$((i+1)); done; echo $i > /tmp/done) &",
        timeout);
  }

  /** The next tick the guest prints, as a number. */
  public static long tick(SerialConsole c, Duration timeout)
      throws IOException, InterruptedException {
    c.await("<T", timeout);
    return Long.parseLong(c.await(">", timeout).trim());
  }

  /**
   * Stops the loop and returns how many sectors it wrote; checks that none failed and that the
   * guest's kernel saw no I/O error.
   */
  public static long stop(SerialConsole c, Duration timeout)
      throws IOException, InterruptedException {
    // The loop's last ticks come before "wait" returns; then its count and any failed writes.
    List<String> done =
        c.run("rm /tmp/run; wait; cat /tmp/done; cat /tmp/ioerr 2>/dev/null", timeout)
            .lines()
            .map(String::trim)
            .filter(l -> !l.isEmpty() && !l.startsWith("<T"))
            .toList();
    assertThat(done).as("the count, then the writes that failed").hasSize(1);
    assertThat(c.run("dmesg | grep -ci 'i/o error'", timeout).trim()).isEqualTo("0");
    return Long.parseLong(done.get(0));
  }

  /** The disk's first {@code span} bytes after {@code n} writes: "P&lt;i&gt;\n" sectors, zeros. */
  public static byte[] expected(long n, int span) {
    byte[] out = new byte[span];
    for (int i = 0; i < n; i++) {
      byte[] p = ("P" + i + "\n").getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(p, 0, out, i * 512, p.length);
    }
    return out;
  }
}
