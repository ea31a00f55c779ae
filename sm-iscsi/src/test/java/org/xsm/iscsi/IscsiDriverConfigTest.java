package org.xsm.iscsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.xsm.api.ConfigKey;
import org.xsm.api.SmDriver;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SrConfig;

/** Registration, driver info and device_config validation (no array needed). */
class IscsiDriverConfigTest {
  private static SmDriver driver() {
    return ServiceLoader.load(SmDriver.class).stream()
        .map(ServiceLoader.Provider::get)
        .filter(d -> d.info().type().equals("iscsi"))
        .findFirst()
        .orElseThrow();
  }

  private static Map<String, String> config() {
    Map<String, String> m = new HashMap<>();
    m.put("target", "127.0.0.1:1");
    m.put("targetIQN", "iqn.2024-01.test:t");
    m.put("controlURL", "http://127.0.0.1:1");
    return m;
  }

  @Test
  void registeredWithHelpForEveryKey() {
    SmDriver d = driver();
    assertThat(d.info().configuration())
        .extracting(ConfigKey::name)
        .containsExactlyInAnyOrder(
            "target",
            "targetIQN",
            "controlURL",
            "controlUser",
            "controlPassword",
            "chapuser",
            "chappassword");
    assertThat(d.info().configuration()).allMatch(k -> !k.description().isBlank());
  }

  @Test
  void missingOrBadKeysAreBadRequests() {
    for (String key : new String[] {"target", "targetIQN", "controlURL"}) {
      Map<String, String> m = config();
      m.remove(key);
      assertThatThrownBy(() -> driver().attach(new SrConfig("sr", m)))
          .isInstanceOfSatisfying(
              SmException.class, e -> assertThat(e.error()).isEqualTo(SmError.BAD_REQUEST))
          .hasMessageContaining("device_config:" + key);
    }
    Map<String, String> halfChap = config();
    halfChap.put("chapuser", "u");
    assertThatThrownBy(() -> driver().attach(new SrConfig("sr", halfChap)))
        .hasMessageContaining("chapuser and chappassword");
    Map<String, String> badUrl = config();
    badUrl.put("controlURL", "ftp://x");
    assertThatThrownBy(() -> driver().attach(new SrConfig("sr", badUrl)))
        .isInstanceOfSatisfying(
            SmException.class, e -> assertThat(e.error()).isEqualTo(SmError.BAD_REQUEST));
  }

  @Test
  void generatedConfigRoundTripsAndRefusesGarbage() throws Exception {
    GeneratedConfig c =
        new GeneratedConfig("lun-id", "10.0.0.1:3261", "iqn.x:y", 7, true, "u", "secret=with:odd");
    assertThat(GeneratedConfig.parse(c.encode())).isEqualTo(c);
    assertThat(GeneratedConfig.parse(c.encode()).initiator().port()).isEqualTo(3261);
    assertThatThrownBy(() -> GeneratedConfig.parse("portal=x\n"))
        .isInstanceOfSatisfying(
            SmException.class, e -> assertThat(e.error()).isEqualTo(SmError.BAD_REQUEST))
        .hasMessageContaining("no location");
    String badLun = c.encode().replace("lun=7", "lun=seven");
    assertThatThrownBy(() -> GeneratedConfig.parse(badLun)).hasMessageContaining("bad lun");
  }

  @Test
  void unreachableArrayIsUnavailable() {
    assertThatThrownBy(() -> driver().attach(new SrConfig("sr", config())))
        .isInstanceOfSatisfying(
            SmException.class, e -> assertThat(e.error()).isEqualTo(SmError.SR_UNAVAILABLE));
  }
}
