package org.xsm.plugins.qcow2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xsm.plugins.vhd.InteropSupport.run;

import java.nio.file.Files;
import java.nio.file.Path;
import org.xsm.plugins.vhd.InteropSupport;

/** qemu-img as the oracle for qcow2 files in a directory: check and compare against a model. */
final class QemuOracle {
  private QemuOracle() {}

  /** {@code qemu-img check} finds no errors and no leaks. */
  static void assertCheckClean(Path dir, String name) throws Exception {
    InteropSupport.Result r = run(dir, "qemu-img", "check", "-f", "qcow2", name);
    assertThat(r.exit()).as("qemu-img check %s: %s", name, r.describe()).isZero();
    assertThat(r.out()).contains("No errors were found");
  }

  /** {@code qemu-img compare} finds the image (with its backing files) equal to the model. */
  static void assertSameAs(Path dir, String name, byte[] model) throws Exception {
    Files.write(dir.resolve("model.raw"), model);
    InteropSupport.Result r =
        run(dir, "qemu-img", "compare", "-f", "qcow2", "-F", "raw", name, "model.raw");
    assertThat(r.exit()).as("qemu-img compare: %s", r.describe()).isZero();
  }
}
