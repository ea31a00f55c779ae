package org.xsm.server.rpc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.xensource.xenapi.Types;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * Encoding of responses. The expected documents are written by hand from the wire reference; the
 * Java SDK's own reader (Apache XML-RPC + {@code Types}) is the independent check that clients read
 * them.
 */
class XmlRpcCodecEncodeTest {

  private static final String HEAD = "<?xml version=\"1.0\"?><methodResponse><params><param>";
  private static final String TAIL = "</param></params></methodResponse>";

  static String success(Object value) {
    return new String(XmlRpcCodec.encodeSuccess(value), UTF_8);
  }

  /** The document {@code encodeSuccess} must produce around an encoded {@code valueXml}. */
  static String successOf(String valueXml) {
    return HEAD
        + "<value><struct><member><name>Status</name><value>Success</value></member>"
        + "<member><name>Value</name>"
        + valueXml
        + "</member></struct></value>"
        + TAIL;
  }

  @Test
  void successWithARef() {
    assertThat(success("OpaqueRef:abc"))
        .isEqualTo(
            "<?xml version=\"1.0\"?><methodResponse><params><param><value><struct>"
                + "<member><name>Status</name><value>Success</value></member>"
                + "<member><name>Value</name><value>OpaqueRef:abc</value></member>"
                + "</struct></value></param></params></methodResponse>");
  }

  @Test
  void voidNullAndEmptyAreTheEmptyStringNeverNil() {
    assertThat(success(null)).isEqualTo(successOf("<value></value>"));
    assertThat(success("")).isEqualTo(successOf("<value></value>"));
    assertThat(success(List.of("")))
        .isEqualTo(successOf("<value><array><data><value></value></data></array></value>"));
    assertThat(success(null)).doesNotContain("nil");
  }

  @Test
  void integersAreStringsOfDigits() {
    assertThat(success(42L)).isEqualTo(successOf("<value>42</value>"));
    assertThat(success(-3)).isEqualTo(successOf("<value>-3</value>"));
    assertThat(success(Long.MIN_VALUE)).isEqualTo(successOf("<value>-9223372036854775808</value>"));
  }

  @Test
  void doublesBooleansDatesAndBytesAreTyped() {
    assertThat(success(60.1)).isEqualTo(successOf("<value><double>60.1</double></value>"));
    assertThat(success(1.0)).isEqualTo(successOf("<value><double>1.0</double></value>"));
    assertThat(success(1e20))
        .isEqualTo(successOf("<value><double>100000000000000000000</double></value>"));
    assertThat(success(-2.5e-5)).isEqualTo(successOf("<value><double>-0.000025</double></value>"));
    assertThat(success(0.1f)).isEqualTo(successOf("<value><double>0.1</double></value>"));
    assertThat(success(new BigDecimal("1.50")))
        .isEqualTo(successOf("<value><double>1.50</double></value>"));
    assertThat(success(Double.NaN)).isEqualTo(successOf("<value><double>NaN</double></value>"));
    assertThat(success(true)).isEqualTo(successOf("<value><boolean>1</boolean></value>"));
    assertThat(success(false)).isEqualTo(successOf("<value><boolean>0</boolean></value>"));
    assertThat(success(Instant.parse("2026-11-22T06:01:04.999Z")))
        .isEqualTo(
            successOf("<value><dateTime.iso8601>20261122T06:01:04Z</dateTime.iso8601></value>"));
    assertThat(success(Instant.EPOCH))
        .isEqualTo(
            successOf("<value><dateTime.iso8601>19700101T00:00:00Z</dateTime.iso8601></value>"));
    assertThat(success(new byte[] {0, 1, 'h', 'i', -1}))
        .isEqualTo(successOf("<value><base64>AAFoaf8=</base64></value>"));
  }

  @Test
  void mapsAreStructsAndCollectionsAndArraysAreArrays() {
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("uuid", "u-1");
    record.put("VCPUs_max", 2L);
    record.put("other_config", Map.of());
    record.put("tags", new TreeSet<>(Set.of("b", "a")));
    record.put("k<&>", new long[] {1, 2});
    record.put("objects", new Object[] {"x", null});
    assertThat(success(record))
        .isEqualTo(
            successOf(
                "<value><struct>"
                    + "<member><name>uuid</name><value>u-1</value></member>"
                    + "<member><name>VCPUs_max</name><value>2</value></member>"
                    + "<member><name>other_config</name><value><struct></struct></value></member>"
                    + "<member><name>tags</name><value><array><data>"
                    + "<value>a</value><value>b</value></data></array></value></member>"
                    + "<member><name>k&lt;&amp;&gt;</name><value><array><data>"
                    + "<value>1</value><value>2</value></data></array></value></member>"
                    + "<member><name>objects</name><value><array><data>"
                    + "<value>x</value><value></value></data></array></value></member>"
                    + "</struct></value>"));
    assertThat(success(List.of()))
        .isEqualTo(successOf("<value><array><data></data></array></value>"));
  }

  @Test
  void otherObjectsAreTheirToString() {
    Object wireName =
        new Object() {
          @Override
          public String toString() {
            return "halted";
          }
        };
    assertThat(success(wireName)).isEqualTo(successOf("<value>halted</value>"));
  }

  @Test
  void failureIsStatusAndStringDescriptions() {
    assertThat(
            new String(
                XmlRpcCodec.encodeFailure(
                    new XenApiException(XenApiError.HANDLE_INVALID, "VM", "OpaqueRef:x")),
                UTF_8))
        .isEqualTo(
            "<?xml version=\"1.0\"?><methodResponse><params><param><value><struct>"
                + "<member><name>Status</name><value>Failure</value></member>"
                + "<member><name>ErrorDescription</name><value><array><data>"
                + "<value>HANDLE_INVALID</value><value>VM</value><value>OpaqueRef:x</value>"
                + "</data></array></value></member>"
                + "</struct></value></param></params></methodResponse>");
  }

  @Test
  void rawIsTheValueAlone() {
    assertThat(new String(XmlRpcCodec.encodeRaw(List.of("VM.get_all", "pool.get_all")), UTF_8))
        .isEqualTo(
            "<?xml version=\"1.0\"?><methodResponse><params><param><value><array><data>"
                + "<value>VM.get_all</value><value>pool.get_all</value>"
                + "</data></array></value></param></params></methodResponse>");
  }

  @Test
  void textIsEscapedAndCharactersXmlCannotCarryAreDropped() {
    assertThat(success("a&b<c>d]]>e\"f'g"))
        .isEqualTo(successOf("<value>a&amp;b&lt;c&gt;d]]&gt;e\"f'g</value>"));
    assertThat(success("x\u0000\u0001\u0007\u001Fy\uFFFE\uFFFFz"))
        .isEqualTo(successOf("<value>xyz</value>"));
    assertThat(success("t\tn\nr\r.")).isEqualTo(successOf("<value>t\tn\nr&#13;.</value>"));
    assertThat(success("lone\uD800 pair\uD83D\uDE00 low\uDC00"))
        .isEqualTo(successOf("<value>lone\uFFFD pair\uD83D\uDE00 low\uFFFD</value>"));
  }

  @Test
  void nonAsciiIsUtf8() {
    byte[] body = XmlRpcCodec.encodeSuccess("\u00e9\uD83D\uDE00");
    String expected = successOf("<value>\u00e9\uD83D\uDE00</value>");
    assertThat(body).isEqualTo(expected.getBytes(UTF_8));
  }

  @Test
  void javaSdkReadsARecordWithItsOwnConverters() throws Exception {
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("memory_static_max", 4294967296L);
    record.put("VCPUs_at_startup", 2);
    record.put("is_a_template", false);
    record.put("progress", 0.25);
    record.put("created", Instant.parse("2026-11-22T06:01:04Z"));
    record.put("name_label", "caf\u00e9 & <co>\r\n");
    record.put("tags", List.of("a", "b"));
    record.put("other_config", Map.of("k", "v"));
    record.put("empty", "");
    record.put("absent", null);

    Map<String, Object> status =
        JavaSdkWire.checkResponse(JavaSdkWire.response(XmlRpcCodec.encodeSuccess(record)));
    assertThat(status.get("Status")).isEqualTo("Success");
    Object value = status.get("Value");
    assertThat(value).isInstanceOf(Map.class);
    Map<?, ?> read = (Map<?, ?>) value;
    assertThat(Types.toLong(read.get("memory_static_max"))).isEqualTo(4294967296L);
    assertThat(Types.toLong(read.get("VCPUs_at_startup"))).isEqualTo(2L);
    assertThat(Types.toBoolean(read.get("is_a_template"))).isFalse();
    assertThat(Types.toDouble(read.get("progress"))).isEqualTo(0.25);
    assertThat(Types.toDate(read.get("created")))
        .isEqualTo(Date.from(Instant.parse("2026-11-22T06:01:04Z")));
    assertThat(Types.toString(read.get("name_label"))).isEqualTo("caf\u00e9 & <co>\r\n");
    assertThat(Types.toSetOfString(read.get("tags"))).containsExactlyInAnyOrder("a", "b");
    assertThat(Types.toMapOfStringString(read.get("other_config"))).containsEntry("k", "v");
    assertThat(Types.toString(read.get("empty"))).isEmpty();
    assertThat(Types.toString(read.get("absent"))).isEmpty();
  }

  @Test
  void javaSdkRaisesTheTypedExceptionForAFailure() throws Exception {
    Object sessionInvalid =
        JavaSdkWire.response(
            XmlRpcCodec.encodeFailure(
                new XenApiException(XenApiError.SESSION_INVALID, "OpaqueRef:s")));
    Types.SessionInvalid e =
        catchThrowableOfType(
            Types.SessionInvalid.class, () -> JavaSdkWire.checkResponse(sessionInvalid));
    assertThat(e.handle).isEqualTo("OpaqueRef:s");

    Object handleInvalid =
        JavaSdkWire.response(
            XmlRpcCodec.encodeFailure(
                new XenApiException(XenApiError.HANDLE_INVALID, "VM", "OpaqueRef:v")));
    Types.HandleInvalid h =
        catchThrowableOfType(
            Types.HandleInvalid.class, () -> JavaSdkWire.checkResponse(handleInvalid));
    assertThat(h.clazz).isEqualTo("VM");
    assertThat(h.handle).isEqualTo("OpaqueRef:v");

    XenApiException unmarshal =
        catchThrowableOfType(
            XenApiException.class, () -> XmlRpcCodec.decode("<x/>".getBytes(UTF_8)));
    Object unmarshalFailure = JavaSdkWire.response(XmlRpcCodec.encodeFailure(unmarshal));
    Types.XmlrpcUnmarshalFailure u =
        catchThrowableOfType(
            Types.XmlrpcUnmarshalFailure.class, () -> JavaSdkWire.checkResponse(unmarshalFailure));
    assertThat(u.expected).isEqualTo("an XML-RPC methodCall");
    assertThat(u.received).isEqualTo("document element is <x>, not <methodCall>");
  }

  @Test
  void javaSdkReadsListMethods() throws Exception {
    List<String> methods = new ArrayList<>(List.of("VM.get_all", "session.login_with_password"));
    Object read = JavaSdkWire.response(XmlRpcCodec.encodeRaw(methods));
    assertThat((Object[]) read).containsExactly("VM.get_all", "session.login_with_password");
  }
}
