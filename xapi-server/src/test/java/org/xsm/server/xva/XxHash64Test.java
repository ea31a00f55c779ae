package org.xsm.server.xva;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** XXH64 against the system's libxxhash (through Python's ctypes) at every length class. */
class XxHash64Test {
  @TempDir Path tmp;

  @Test
  void agreesWithLibxxhash() throws Exception {
    int[] lengths = {0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 31, 32, 33, 63, 64, 100, 4096, 1024 * 1024};
    Random r = new Random(42);
    List<String> mine = new ArrayList<>();
    List<String> args = new ArrayList<>(List.of("python3", "-c", PY));
    for (int len : lengths) {
      byte[] b = new byte[len];
      r.nextBytes(b);
      Path f = tmp.resolve("b" + len);
      Files.write(f, b);
      args.add(f.toString());
      mine.add(XxHash64.hex(b, 0, len));
    }
    Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(mine).isEqualTo(out.lines().toList());
    assertThat(XxHash64.hex(new byte[0], 0, 0)).isEqualTo("EF46DB3751D8E999");
  }

  private static final String PY =
      """
      import ctypes, sys
      l = ctypes.CDLL("libxxhash.so.0")
      l.XXH64.restype = ctypes.c_uint64
      l.XXH64.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]
      for f in sys.argv[1:]:
          d = open(f, "rb").read()
          print("%016X" % l.XXH64(d, len(d), 0))
      """;
}
