package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Types;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
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
  @TempDir Path tmp;

  @Test
  void xenOrchestraBacksUpAndRestoresAVm() throws Exception {
    byte[] a = image(4 * MIB, 11, 0, 3L * MIB + 5);
    byte[] b = image(2 * MIB, 12, MIB + 17);
    VM vm = vmWithDisks("xva-xo-backup", a, b);
    String output =
        NodeClients.run(
            url,
            "xo_xva_test.mjs",
            List.of("xen-api"),
            vm.getUuid(c),
            defaultSr().toWireString(),
            tmp.toString());
    Matcher m = Pattern.compile("imported (\\w+) (OpaqueRef:[0-9a-f-]+)").matcher(output);
    int restored = 0;
    while (m.find()) {
      VM copy = Types.toVM(m.group(2));
      assertThat(copy.getUuid(c)).isNotEqualTo(vm.getUuid(c));
      assertThat(download(disks(copy).get("0"))).as(m.group(1)).isEqualTo(a);
      assertThat(download(disks(copy).get("1"))).as(m.group(1)).isEqualTo(b);
      restored++;
    }
    assertThat(restored).as(output).isEqualTo(2);
  }
}
