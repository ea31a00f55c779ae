package org.xsm.server.rpc;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.xsm.server.model.XenApiException;

/** Decoding of calls: value types, whitespace, and each real client's request as it sends it. */
class XmlRpcCodecDecodeTest {

  static RpcRequest decode(String xml) throws XenApiException {
    return XmlRpcCodec.decode(xml.getBytes(UTF_8));
  }

  /** The single parameter of a call whose one {@code <param>} holds {@code valueXml}. */
  static Object param(String valueXml) throws XenApiException {
    RpcRequest request =
        decode(
            "<methodCall><methodName>m</methodName><params><param>"
                + valueXml
                + "</param></params></methodCall>");
    assertThat(request.params()).hasSize(1);
    return request.params().get(0);
  }

  @Test
  void stringsTypedAndUntypedKeepTheirWhitespace() throws Exception {
    assertThat(param("<value><string> a b </string></value>")).isEqualTo(" a b ");
    assertThat(param("<value> untyped\tx </value>")).isEqualTo(" untyped\tx ");
    assertThat(param("<value></value>")).isEqualTo("");
    assertThat(param("<value/>")).isEqualTo("");
    assertThat(param("<value><string/></value>")).isEqualTo("");
    assertThat(param("<value><string>a &amp; &lt;b&gt; &#x263A;</string></value>"))
        .isEqualTo("a & <b> \u263A");
    assertThat(param("<value><![CDATA[<raw> & ]]>text</value>")).isEqualTo("<raw> & text");
  }

  @Test
  void everyIntegerTypeIsALong() throws Exception {
    assertThat(param("<value><int>42</int></value>")).isEqualTo(42L);
    assertThat(param("<value><i4>-7</i4></value>")).isEqualTo(-7L);
    assertThat(param("<value><i8> 9223372036854775807 </i8></value>")).isEqualTo(Long.MAX_VALUE);
    // Apache XML-RPC's extension namespace, as some Java clients send 64-bit ints.
    assertThat(
            param(
                "<value><ex:i8 xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\">"
                    + "-9223372036854775808</ex:i8></value>"))
        .isEqualTo(Long.MIN_VALUE);
    // int64 as XenAPI sends it is a string; it stays one (the handler knows the signature).
    assertThat(param("<value>4294967296</value>")).isEqualTo("4294967296");
  }

  @Test
  void booleansDoublesAndNil() throws Exception {
    assertThat(param("<value><boolean>1</boolean></value>")).isEqualTo(true);
    assertThat(param("<value><boolean>0</boolean></value>")).isEqualTo(false);
    assertThat(param("<value><double>60.1</double></value>")).isEqualTo(60.1);
    assertThat(param("<value><double> -1.5e3 </double></value>")).isEqualTo(-1500.0);
    assertThat(param("<value><double>.5</double></value>")).isEqualTo(0.5);
    assertThat(param("<value><nil/></value>")).isNull();
    assertThat(
            param(
                "<value><ex:nil xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\"/>"
                    + "</value>"))
        .isNull();
  }

  @Test
  void datetimesInEveryShapeClientsSend() throws Exception {
    Instant expected = Instant.parse("2026-11-22T06:01:04Z");
    String[] shapes = {
      "20261122T06:01:04Z", // xapi's own
      "20261122T06:01:04", // XenAPI.py and the Java SDK (UTC, no zone)
      "2026-11-22T06:01:04Z",
      "20261122T060104Z",
      "20261122T07:01:04+01:00",
      "20261122T01:01:04-0500",
    };
    for (String shape : shapes) {
      assertThat(param("<value><dateTime.iso8601>" + shape + "</dateTime.iso8601></value>"))
          .as(shape)
          .isEqualTo(expected);
    }
    assertThat(param("<value><dateTime.iso8601>20261122T06:01:04.250Z</dateTime.iso8601></value>"))
        .isEqualTo(expected.plusMillis(250));
  }

  @Test
  void base64IgnoresLineBreaks() throws Exception {
    assertThat(param("<value><base64>\nAAFo\nZWxs\nbw==\n</base64></value>"))
        .isEqualTo(new byte[] {0, 1, 'h', 'e', 'l', 'l', 'o'});
    assertThat(param("<value><base64></base64></value>")).isEqualTo(new byte[0]);
  }

  @Test
  void structsAndArraysNestInOrder() throws Exception {
    Object value =
        param(
            "<value><struct>"
                + "<member><name>z</name><value><array><data>"
                + "<value>a</value><value><int>1</int></value>"
                + "<value><struct></struct></value><value><array><data/></array></value>"
                + "</data></array></value></member>"
                + "<member><name>a</name><value><struct><member><name>k</name>"
                + "<value><boolean>1</boolean></value></member></struct></value></member>"
                + "<member><name></name><value></value></member>"
                + "</struct></value>");
    assertThat(value).isInstanceOf(LinkedHashMap.class);
    @SuppressWarnings("unchecked")
    Map<String, Object> map = (Map<String, Object>) value;
    assertThat(map).containsOnlyKeys("z", "a", "");
    assertThat(map.keySet()).containsExactly("z", "a", "");
    assertThat(map.get("z")).isEqualTo(List.of("a", 1L, Map.of(), List.of()));
    assertThat(map.get("a")).isEqualTo(Map.of("k", true));
    assertThat(map.get("")).isEqualTo("");
  }

  @Test
  void paramsMayBeMissingOrEmptyAndMethodNameIsStripped() throws Exception {
    RpcRequest bare =
        decode("<methodCall><methodName> system.listMethods\n</methodName></methodCall>");
    assertThat(bare).isEqualTo(new RpcRequest("system.listMethods", List.of(), 0, null));
    assertThat(decode("<methodCall><methodName>x</methodName><params/></methodCall>").params())
        .isEmpty();
  }

  @Test
  void whitespaceEverywhereBetweenTagsAndAroundTheDocument() throws Exception {
    RpcRequest request =
        decode(
            "<?xml version=\"1.0\"?>\n<!-- a comment -->\n<methodCall>\n  <methodName>VM.set_tags</methodName>\n"
                + "  <params>\n    <param>\n      <value>\n        <array>\n          <data>\n"
                + "            <value>  <string>t1</string>  </value>\n"
                + "            <value>t2</value>\n          </data>\n        </array>\n"
                + "      </value>\n    </param>\n    <param> <value> <struct>\n"
                + "      <member> <name>k</name> <value> <i4> 3 </i4> </value> </member>\n"
                + "    </struct> </value> </param>\n  </params>\n</methodCall>\n\n");
    assertThat(request.method()).isEqualTo("VM.set_tags");
    assertThat(request.params()).containsExactly(List.of("t1", "t2"), Map.of("k", 3L));
  }

  @Test
  void xenApiPyLoginAsPythonSendsIt() throws Exception {
    // Byte for byte what xmlrpc.client.dumps (Python 3) produces for XenAPI.py's
    // session.login_with_password(user, password, version, originator).
    String body =
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>session.login_with_password"
            + "</methodName>\n<params>\n<param>\n<value><string>root</string></value>\n</param>\n"
            + "<param>\n<value><string>secret</string></value>\n</param>\n<param>\n"
            + "<value><string>2.21</string></value>\n</param>\n<param>\n"
            + "<value><string>XenAPI.py/1.0</string></value>\n</param>\n</params>\n"
            + "</methodCall>\n";
    assertThat(decode(body))
        .isEqualTo(
            new RpcRequest(
                "session.login_with_password",
                List.of("root", "secret", "2.21", "XenAPI.py/1.0"),
                0,
                null));
  }

  @Test
  void xenApiPyEventFromAndRecordAsPythonSendsThem() throws Exception {
    // xmlrpc.client.dumps output for event.from(session, ["vm","pool"], "", 60.1)
    String eventFrom =
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>event.from</methodName>\n<params>\n"
            + "<param>\n<value><string>OpaqueRef:abc</string></value>\n</param>\n<param>\n"
            + "<value><array><data>\n<value><string>vm</string></value>\n"
            + "<value><string>pool</string></value>\n</data></array></value>\n</param>\n"
            + "<param>\n<value><string></string></value>\n</param>\n<param>\n"
            + "<value><double>60.1</double></value>\n</param>\n</params>\n</methodCall>\n";
    assertThat(decode(eventFrom).params())
        .containsExactly("OpaqueRef:abc", List.of("vm", "pool"), "", 60.1);

    // ... and for a struct with an int, a bool, Binary, DateTime and None (allow_none=True).
    String record =
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>VM.create</methodName>\n<params>\n"
            + "<param>\n<value><struct>\n<member>\n<name>name_label</name>\n"
            + "<value><string>a &amp; &lt;b&gt;</string></value>\n</member>\n<member>\n"
            + "<name>other_config</name>\n<value><struct>\n</struct></value>\n</member>\n"
            + "<member>\n<name>n</name>\n<value><int>5</int></value>\n</member>\n<member>\n"
            + "<name>t</name>\n<value><boolean>1</boolean></value>\n</member>\n<member>\n"
            + "<name>bin</name>\n<value><base64>\nAAFoZWxsbwABaGVsbG8AAWhlbGxvAAFoZWxsbwABaGVsbG8A"
            + "AWhlbGxvAAFoZWxsbwABaGVsbG8A\nAWhlbGxvAAFoZWxsbw==\n</base64></value>\n</member>\n"
            + "<member>\n<name>d</name>\n"
            + "<value><dateTime.iso8601>20261122T06:01:04</dateTime.iso8601></value>\n"
            + "</member>\n<member>\n<name>none</name>\n<value><nil/></value></member>\n"
            + "</struct></value>\n</param>\n</params>\n</methodCall>\n";
    Map<String, Object> expected = new LinkedHashMap<>();
    expected.put("name_label", "a & <b>");
    expected.put("other_config", Map.of());
    expected.put("n", 5L);
    expected.put("t", true);
    expected.put("bin", "\u0000\u0001hello".repeat(10).getBytes(ISO_8859_1));
    expected.put("d", Instant.parse("2026-11-22T06:01:04Z"));
    expected.put("none", null);
    Object decoded = decode(record).params().get(0);
    assertThat(decoded).usingRecursiveComparison().isEqualTo(expected);
  }

  @Test
  void javaSdkRequestsAsApacheXmlRpcWritesThem() throws Exception {
    RpcRequest login =
        XmlRpcCodec.decode(
            JavaSdkWire.request("session.login_with_password", "root", "pw", "1.0", "xsm-test"));
    assertThat(login)
        .isEqualTo(
            new RpcRequest(
                "session.login_with_password", List.of("root", "pw", "1.0", "xsm-test"), 0, null));

    // The SDK marshals longs to strings, null to "", and passes maps, booleans, doubles and
    // dates to Apache XML-RPC, which writes untyped strings and typed everything else.
    Map<String, Object> otherConfig = new LinkedHashMap<>();
    otherConfig.put("a", "b & c");
    otherConfig.put("memory", 4294967296L);
    RpcRequest call =
        XmlRpcCodec.decode(
            JavaSdkWire.request(
                "VM.test",
                "OpaqueRef:s",
                4294967296L,
                null,
                true,
                60.1,
                Date.from(Instant.parse("2026-11-22T06:01:04Z")),
                otherConfig,
                "\u00e9\u4e2d\uD83D\uDE00"));
    assertThat(call.params())
        .containsExactly(
            "OpaqueRef:s",
            "4294967296",
            "",
            true,
            60.1,
            Instant.parse("2026-11-22T06:01:04Z"),
            Map.of("a", "b & c", "memory", "4294967296"),
            "\u00e9\u4e2d\uD83D\uDE00");
  }

  @Test
  void surrogatePairReferencesAsApacheXmlRpcWritesThemAreJoined() throws Exception {
    // Apache XML-RPC 3.1.3 writes U+1F600 as references to its two UTF-16 halves.
    assertThat(param("<value>a&#55357;&#56832;b&#xD83D;&#xDE00;&#128512;</value>"))
        .isEqualTo("a\uD83D\uDE00b\uD83D\uDE00\uD83D\uDE00");
    // Other references and ampersands are left alone, including just before a pair.
    assertThat(param("<value>&#65;&#55357;&#56832;&amp;#55357;&#x263A;</value>"))
        .isEqualTo("A\uD83D\uDE00&#55357;\u263A");
    // A lone half is still not XML.
    assertThat(catchThrowableOfType(XenApiException.class, () -> param("<value>&#55357;x</value>")))
        .isNotNull();
    assertThat(
            catchThrowableOfType(
                XenApiException.class, () -> param("<value>&#56832;&#55357;</value>")))
        .isNotNull();
  }

  @Test
  void encodingFromTheXmlDeclarationIsHonoured() throws Exception {
    byte[] latin1 =
        ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><methodCall><methodName>m</methodName>"
                + "<params><param><value>caf\u00e9</value></param></params></methodCall>")
            .getBytes(ISO_8859_1);
    assertThat(XmlRpcCodec.decode(latin1).params()).containsExactly("caf\u00e9");
  }

  @Test
  void unicodeRoundTripsThroughEncodeAndDecode() throws Exception {
    String text = "\u00e9 \u4e2d\u6587 \uD83D\uDE00 \u263A tab\tnl\ncr\r end";
    String response = new String(XmlRpcCodec.encodeRaw(List.of(text)), UTF_8);
    // Re-wrap the encoded value as a call and decode it: the text survives both directions.
    String value =
        response.substring(response.indexOf("<param>") + 7, response.indexOf("</param>"));
    assertThat(param(value)).isEqualTo(List.of(text));
  }

  static XenApiException failure(String xml) {
    return catchThrowableOfType(XenApiException.class, () -> decode(xml));
  }

  @Test
  void theErrorHasXapisShape() {
    XenApiException e = failure("<methodCall><methodName>m</methodName><bogus/></methodCall>");
    assertThat(e.code()).isEqualTo("XMLRPC_UNMARSHAL_FAILURE");
    assertThat(e.params())
        .containsExactly("an XML-RPC methodCall", "unexpected <bogus> in <methodCall>");
  }
}
