package org.xsm.ext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.xsm.api.SmDriver;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.plugins.registry.PluginRegistry;

class PluginRegistryTest {
  @Test
  void findsTheExtDriverThroughServiceLoader() throws SmException {
    PluginRegistry r = PluginRegistry.load();
    assertThat(r.types()).contains("ext");
    assertThat(r.driver("ext")).isInstanceOf(ExtDriver.class);
  }

  @Test
  void unknownTypeIsAClearError() {
    PluginRegistry r = PluginRegistry.load();
    assertThatThrownBy(() -> r.driver("zfs"))
        .isInstanceOf(SmException.class)
        .hasMessageContaining("No SM driver for SR type 'zfs'")
        .hasMessageContaining("known types: ext")
        .extracting(e -> ((SmException) e).error())
        .isEqualTo(SmError.UNKNOWN_DRIVER);
  }

  @Test
  void twoDriversForOneTypeAreRefused() {
    List<SmDriver> two = List.of(new ExtDriver(), new ExtDriver());
    assertThatThrownBy(() -> PluginRegistry.of(two))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("two drivers for SR type 'ext'");
  }
}
