package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.xensource.xenapi.Types;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Xen Orchestra's full backup (export with zstd, then gzip) and restore (PUT /import of a stream of
 * unknown length) through its connector, {@code xen-api} 4.7.7 ({@code xo_xva_test.mjs}); the
 * restored VMs' disks are then compared byte for byte with the original's.
 */
@QuarkusTest
class XvaXoTest extends XvaTestBase {
  private static final Path CLIENTS = Path.of("src/test/clients");

  @TempDir Path tmp;

  @Test
  void xenOrchestraBacksUpAndRestoresAVm() throws Exception {
    if (!Files.isRegularFile(CLIENTS.resolve("node_modules/xen-api/package.json"))) {
      fail("the npm package xen-api is not installed: run 'npm ci' in " + CLIENTS);
    }
    byte[] a = image(4 * MIB, 11, 0, 3L * MIB + 5);
    byte[] b = image(2 * MIB, 12, MIB + 17);
    VM vm = vmWithDisks("xva-xo-backup", a, b);
    ChildProcess.Result r;
    try {
      r =
          ChildProcess.run(
              List.of(
                  "node",
                  CLIENTS.resolve("xo_xva_test.mjs").toString(),
                  base(),
                  "root",
                  "xsm-test-root",
                  vm.getUuid(c),
                  defaultSr().toWireString(),
                  tmp.toString()),
              null,
              180);
    } catch (IOException e) {
      fail("node is not installed (" + e.getMessage() + "): apt-get install nodejs npm");
      return;
    }
    if (r.timedOut() || r.exit() != 0 || !r.output().contains("xo_xva_test: all checks passed")) {
      fail("xo_xva_test.mjs failed (exit " + r.exit() + "); its output:\n" + r.output());
    }
    Matcher m = Pattern.compile("imported (\\w+) (OpaqueRef:[0-9a-f-]+)").matcher(r.output());
    int restored = 0;
    while (m.find()) {
      VM copy = Types.toVM(m.group(2));
      assertThat(copy.getUuid(c)).isNotEqualTo(vm.getUuid(c));
      assertThat(download(disks(copy).get("0"))).as(m.group(1)).isEqualTo(a);
      assertThat(download(disks(copy).get("1"))).as(m.group(1)).isEqualTo(b);
      restored++;
    }
    assertThat(restored).as(r.output()).isEqualTo(2);
  }
}
