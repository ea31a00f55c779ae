package org.xsm.plugins.vhd;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Inputs that once crashed the footer and header decoders under {@code ./bench/run fuzz}
 * (ArrayIndexOutOfBoundsException on buffers shorter than the structure): each is now refused with
 * a VhdFormatException naming the problem.
 */
class VhdFuzzRegressionTest {
  private static byte[] input(String name) throws IOException {
    try (InputStream in = VhdFuzzRegressionTest.class.getResourceAsStream("/fuzz/" + name)) {
      return in.readAllBytes();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"crash-1.bin", "crash-2.bin", "crash-3.bin", "crash-4.bin"})
  void footerCrashesAreRefusals(String file) throws IOException {
    byte[] b = input("vhd-footer/" + file);
    assertThatThrownBy(() -> VhdFooter.decode(b, "fuzz input"))
        .isInstanceOf(VhdFormatException.class)
        .hasMessageContaining("footer is " + b.length + " bytes, not 512");
  }

  @ParameterizedTest
  @ValueSource(strings = {"crash-1.bin", "crash-2.bin", "crash-3.bin"})
  void headerCrashesAreRefusals(String file) throws IOException {
    byte[] b = input("vhd-header/" + file);
    assertThatThrownBy(() -> DynamicHeader.decode(b, "fuzz input"))
        .isInstanceOf(VhdFormatException.class)
        .hasMessageContaining("dynamic header is " + b.length + " bytes, not 1024");
  }
}
