package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Task;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import io.quarkus.test.junit.QuarkusTest;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A client that goes away at any byte of a transfer: its task settles (never left pending) and the
 * VDI is released, so the next transfer of it works; an import cut short leaves the VDI as it was.
 * Each case waits for the task's state (polled, with a timeout), never for time.
 */
@QuarkusTest
class TransferDisconnectTest extends SdkTest {
  private static final int MIB = 1024 * 1024;
  private static final int SIZE = 64 * MIB;
  private static final long PIB = 1L << 50;

  private Transfers t() {
    return new Transfers(c, url);
  }

  private static byte[] full(long seed) {
    byte[] b = new byte[SIZE];
    new Random(seed).nextBytes(b);
    return b;
  }

  private Socket open(String method, URI uri, long contentLength) throws Exception {
    Socket s = new Socket();
    s.setReceiveBufferSize(16 * 1024); // so that an export cannot finish into the socket buffers
    s.setSoTimeout(60_000); // a server that neither sends nor closes fails the test
    s.connect(new java.net.InetSocketAddress("127.0.0.1", url.getPort()));
    String head =
        method
            + " "
            + uri.getRawPath()
            + "?"
            + uri.getRawQuery()
            + " HTTP/1.1\r\nHost: x\r\n"
            + (contentLength >= 0 ? "Content-Length: " + contentLength + "\r\n" : "")
            + "\r\n";
    s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return s;
  }

  /**
   * Reads the response head, then {@code n} bytes of the body (fewer if it ends); a negative {@code
   * n} counts from the body's end.
   */
  private static void readHeadAndBytes(InputStream in, long n) throws Exception {
    int state = 0;
    StringBuilder head = new StringBuilder();
    while (state < 4) {
      int b = in.read();
      if (b < 0) {
        return;
      }
      head.append((char) b);
      state = (b == (state % 2 == 0 ? '\r' : '\n')) ? state + 1 : (b == '\r' ? 1 : 0);
    }
    if (n < 0) { // counted from the end of the body
      Matcher m = Pattern.compile("Content-Length: (\\d+)").matcher(head);
      assertThat(m.find()).as(head.toString()).isTrue();
      n += Long.parseLong(m.group(1));
    }
    byte[] buf = new byte[8192];
    long left = n;
    try {
      while (left > 0) {
        int r = in.read(buf, 0, (int) Math.min(buf.length, left));
        if (r < 0) {
          return;
        }
        left -= r;
      }
    } catch (java.net.SocketTimeoutException e) {
      throw new AssertionError(
          "no byte for a minute, " + (n - left) + " of " + n + " read after\n" + head, e);
    }
  }

  @Test
  void exportsCutAtAnyByteSettleTheirTaskAndReleaseTheVdi() throws Exception {
    VDI v = newVdi("cut-export", SIZE);
    byte[] img = full(1);
    assertThat(t().put(v, "raw", img).succeeded()).isTrue();
    VDI base = v.snapshot(c, Map.of());
    byte[] after = img.clone();
    Arrays.fill(after, 0, 40 * MIB, (byte) 7);
    assertThat(t().put(v, "raw", after).succeeded()).isTrue();
    // Within the footer copy, the header, the BAT, the locators or first bitmap, data, 16 MiB
    // before the end (more than the server can have written ahead into the socket buffers), and
    // within the last footer.
    long[] offsets = {0, 100, 700, 1600, 2600, 5 * MIB + 17, 20 * MIB, -16 * MIB, -100};
    for (String query : new String[] {"&format=vhd", "&format=vhd&base=" + base.toWireString()}) {
      for (long at : offsets) {
        Task task = Task.create(c, "export", "");
        URI uri = t().uri("/export_raw_vdi", v, query + "&task_id=" + task.toWireString());
        try (Socket s = open("GET", uri, -1)) {
          if (at != 0) {
            readHeadAndBytes(s.getInputStream(), at);
          }
        }
        Types.TaskStatusType st = t().settle(task);
        if (at == -100) {
          // The server may have handed every byte to the kernel before the close: either end is
          // right, as long as it is an end.
          assertThat(st)
              .as("%s cut at %d", query, at)
              .isIn(Types.TaskStatusType.FAILURE, Types.TaskStatusType.SUCCESS);
        } else {
          // As xapi: a client's cut is a failure (not cancelled) with VDI_IO_ERROR.
          assertThat(st).as("%s cut at %d", query, at).isEqualTo(Types.TaskStatusType.FAILURE);
          assertThat(task.getErrorInfo(c)).as("%s cut at %d", query, at).contains("VDI_IO_ERROR");
        }
      }
    }
    // Released: it can be written (activated read-write) and reads back.
    assertThat(t().put(v, "raw", img).succeeded()).isTrue();
    assertThat(t().get(v, "raw", "")).isEqualTo(img);
  }

  @Test
  void importsCutAtAnyByteFailTheirTaskAndLeaveTheVdiAsItWas() throws Exception {
    VDI src = newVdi("cut-import-src", SIZE);
    byte[] other = full(2);
    assertThat(t().put(src, "raw", other).succeeded()).isTrue();
    byte[] vhd = t().get(src, "vhd", "");
    VDI v = newVdi("cut-import", SIZE);
    byte[] img = full(3);
    assertThat(t().put(v, "raw", img).succeeded()).isTrue();
    long[] offsets = {0, 200, 1000, 1600, 2600, 3 * MIB + 5, vhd.length / 2, vhd.length - 100};
    for (long at : offsets) {
      for (long declared : new long[] {vhd.length, PIB}) {
        Task task = Task.create(c, "import", "");
        URI uri = t().uri("/import_raw_vdi", v, "&format=vhd&task_id=" + task.toWireString());
        try (Socket s = open("PUT", uri, declared)) {
          OutputStream out = s.getOutputStream();
          out.write(vhd, 0, (int) at);
          out.flush();
        }
        Types.TaskStatusType st = t().settle(task);
        assertThat(st).as("cut at %d of %d", at, declared).isEqualTo(Types.TaskStatusType.FAILURE);
        assertThat(task.getErrorInfo(c)).contains("VDI_IO_ERROR");
      }
    }
    assertThat(t().get(v, "raw", "")).isEqualTo(img);
    // Raw imports cut short likewise.
    Task task = Task.create(c, "import", "");
    URI uri = t().uri("/import_raw_vdi", v, "&format=raw&task_id=" + task.toWireString());
    try (Socket s = open("PUT", uri, SIZE)) {
      s.getOutputStream().write(other, 0, SIZE / 3);
    }
    assertThat(t().settle(task)).isEqualTo(Types.TaskStatusType.FAILURE);
    assertThat(task.getErrorInfo(c)).contains("VDI_IO_ERROR");
    assertThat(t().get(v, "raw", "")).isEqualTo(img);
  }

  @Test
  void anUploadOfUnknownLengthEndsWhenTheClientClosesAfterTheWholeImage() throws Exception {
    // Xen Orchestra's connector for a stream without a length: Content-Length 1 PiB, the image,
    // then the connection closed without reading the answer.
    VDI src = newVdi("pib-src", SIZE);
    byte[] img = full(4);
    assertThat(t().put(src, "raw", img).succeeded()).isTrue();
    byte[] vhd = t().get(src, "vhd", "");
    for (String format : new String[] {"vhd", "raw"}) {
      VDI v = newVdi("pib-" + format, SIZE);
      Task task = Task.create(c, "import", "");
      URI uri =
          t().uri("/import_raw_vdi", v, "&format=" + format + "&task_id=" + task.toWireString());
      try (Socket s = open("PUT", uri, PIB)) {
        s.getOutputStream().write(format.equals("vhd") ? vhd : img);
        s.getOutputStream().flush();
        // Node reads what arrives (the 200's head) as it comes, so its close is an orderly one;
        // a close with unread bytes would be a reset, which drops what the server has not read.
        readHeadAndBytes(s.getInputStream(), 0);
      }
      assertThat(t().settle(task)).as(format).isEqualTo(Types.TaskStatusType.SUCCESS);
      assertThat(t().get(v, "raw", "")).isEqualTo(img);
    }
  }
}
