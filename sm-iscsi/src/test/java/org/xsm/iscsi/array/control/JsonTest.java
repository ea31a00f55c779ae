package org.xsm.iscsi.array.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void parsesNestedValues() {
    Object v = Json.parse(" {\"a\": [1, -2.5, true, null, \"x\\n\\u00e9\"], \"b\": {}} ");
    assertThat(v)
        .isEqualTo(Map.of("a", Arrays.asList(1L, -2.5, true, null, "x\né"), "b", Map.of()));
  }

  @Test
  void writesWhatItReads() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("s", "q\"\\\t\u0001");
    m.put("n", 9007199254740993L);
    m.put("l", Arrays.asList(1.5, false, null));
    String text = Json.write(m);
    assertThat(Json.parse(text)).isEqualTo(m);
  }

  @Test
  void rejectsMalformedInputWithThePosition() {
    assertThatThrownBy(() -> Json.parse("{\"a\" 1}")).hasMessageContaining("offset 5");
    assertThatThrownBy(() -> Json.parse("[1,]")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Json.parse("{} x")).hasMessageContaining("after the value");
    assertThatThrownBy(() -> Json.parse("\"open")).isInstanceOf(IllegalArgumentException.class);
  }
}
