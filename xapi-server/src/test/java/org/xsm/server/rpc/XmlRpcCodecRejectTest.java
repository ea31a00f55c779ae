package org.xsm.server.rpc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.xsm.server.model.XenApiException;

/** What decoding refuses, and how: hostile documents, oversize bodies, malformed calls. */
class XmlRpcCodecRejectTest {

  private static final String CALL_START = "<methodCall><methodName>m</methodName><params><param>";
  private static final String CALL_END = "</param></params></methodCall>";

  static XenApiException failure(byte[] body) {
    XenApiException e = catchThrowableOfType(XenApiException.class, () -> XmlRpcCodec.decode(body));
    assertThat(e).as("decode must fail with XenApiException").isNotNull();
    assertThat(e.code()).isEqualTo("XMLRPC_UNMARSHAL_FAILURE");
    assertThat(e.params()).hasSize(2).first().isEqualTo("an XML-RPC methodCall");
    return e;
  }

  static String reason(String xml) {
    return failure(xml.getBytes(UTF_8)).params().get(1);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          not xml at all                                            | XML that is not well-formed
          <methodCall><methodName>m</methodName>                    | XML that is not well-formed
          <methodCall><methodName>m</methodName></methodCall>trail  | XML that is not well-formed
          <methodResponse/>                                         | document element is <methodResponse>, not <methodCall>
          <methodCall/>                                             | <methodCall> has no <methodName>
          <methodCall><params/></methodCall>                        | unexpected <params> in <methodCall>
          <methodCall><methodName> </methodName></methodCall>       | empty <methodName>
          <methodCall><methodName>a</methodName><methodName>b</methodName></methodCall> | unexpected <methodName> in <methodCall>
          <methodCall><methodName>m</methodName><params/><params/></methodCall> | unexpected <params> in <methodCall>
          <methodCall><methodName>m</methodName>text</methodCall>   | unexpected text in <methodCall>
          <methodCall><methodName>m<b/></methodName></methodCall>   | unexpected <b> in <methodName>
          <methodCall><methodName>m</methodName><params><value/></params></methodCall> | unexpected <value> in <params>
          """)
  void malformedCalls(String xml, String expectedReason) {
    assertThat(reason(xml)).startsWith(expectedReason);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          <param/>                                                  | <param> has no <value>
          <param><value/><value/></param>                           | unexpected <value> in <param>
          <param><value><foo/></value></param>                      | unexpected <foo> in <value>
          <param><value><int>1</int><int>2</int></value></param>    | unexpected <int> in <value>
          <param><value>x<int>1</int></value></param>               | text beside the type in <value>
          <param><value><int>4x</int></value></param>               | <int> is not a 64-bit integer: 4x
          <param><value><i8>9223372036854775808</i8></value></param> | <i8> is not a 64-bit integer: 9223372036854775808
          <param><value><int></int></value></param>                 | <int> is not a 64-bit integer:
          <param><value><boolean>2</boolean></value></param>        | <boolean> is not 0 or 1: 2
          <param><value><double>NaN</double></value></param>        | <double> is not a decimal number: NaN
          <param><value><double>1.0d</double></value></param>      | <double> is not a decimal number: 1.0d
          <param><value><double>0x1p3</double></value></param>      | <double> is not a decimal number: 0x1p3
          <param><value><dateTime.iso8601>2026-13-01T00:00:00</dateTime.iso8601></value></param> | <dateTime.iso8601> is not a datetime
          <param><value><dateTime.iso8601>yesterday</dateTime.iso8601></value></param> | <dateTime.iso8601> is not a datetime
          <param><value><base64>***</base64></value></param>        | <base64> is not base64
          <param><value><nil>x</nil></value></param>                | unexpected text in <nil>
          <param><value><string><b/></string></value></param>       | unexpected <b> in <string>
          <param><value><struct><member><value/></member></struct></value></param> | unexpected <value> in <member>
          <param><value><struct><member><name>a</name></member></struct></value></param> | <member> needs a <name> and a <value>
          <param><value><struct><member><value/><name>a</name></member></struct></value></param> | unexpected <value> in <member>
          <param><value><struct><member><name>a</name><value/></member><member><name>a</name><value/></member></struct></value></param> | duplicate struct member "a"
          <param><value><struct>text</struct></value></param>       | unexpected text in <struct>
          <param><value><array/></value></param>                    | <array> has no <data>
          <param><value><array><data><int>1</int></data></array></value></param> | unexpected <int> in <data>
          """)
  void malformedValues(String param, String expectedReason) {
    String xml =
        "<methodCall><methodName>m</methodName><params>" + param + "</params></methodCall>";
    assertThat(reason(xml)).startsWith(expectedReason);
  }

  @Test
  void emptyAndNullBodies() {
    assertThat(failure(new byte[0]).params().get(1)).isEqualTo("an empty body");
    assertThat(failure(null).params().get(1)).isEqualTo("an empty body");
  }

  @Test
  void bytesInvalidInTheirEncodingAreRejected() {
    byte[] body = (CALL_START + "<value>ab</value>" + CALL_END).getBytes(UTF_8);
    int at = new String(body, UTF_8).indexOf("ab");
    body[at] = (byte) 0xC3; // a UTF-8 lead byte followed by an ASCII 'b'
    assertThat(failure(body).params().get(1)).startsWith("XML that is not well-formed");
  }

  @Test
  void parserMessagesDoNotEchoTheDocument() {
    String reason = reason("<methodCall><methodName>m</methodName><secret-token attr=");
    assertThat(reason).startsWith("XML that is not well-formed or has a DOCTYPE (line 1, column");
    assertThat(reason).doesNotContain("secret-token");
  }

  @Test
  void externalEntityIsNeverResolved(@TempDir Path dir) throws Exception {
    String secret = "TOP-SECRET-" + UUID.randomUUID();
    Path file = Files.writeString(dir.resolve("secret.txt"), secret);
    String xml =
        "<?xml version=\"1.0\"?><!DOCTYPE methodCall [<!ENTITY xxe SYSTEM \""
            + file.toUri()
            + "\">]><methodCall><methodName>&xxe;</methodName><params><param>"
            + "<value>&xxe;</value></param></params></methodCall>";
    XenApiException e = failure(xml.getBytes(UTF_8));
    assertThat(e.params().get(1)).startsWith("XML that is not well-formed or has a DOCTYPE");
    assertThat(e.getMessage()).doesNotContain(secret).doesNotContain(file.toString());
    assertThat(String.join(" ", e.errorDescription())).doesNotContain(secret);
  }

  @Test
  void externalParameterEntityAndExternalDtdAreNeverFetched(@TempDir Path dir) throws Exception {
    String secret = "TOP-SECRET-" + UUID.randomUUID();
    Path file = Files.writeString(dir.resolve("secret.dtd"), "<!ENTITY leak \"" + secret + "\">");
    for (String doctype :
        List.of(
            "<!DOCTYPE methodCall [<!ENTITY % p SYSTEM \"" + file.toUri() + "\"> %p;]>",
            "<!DOCTYPE methodCall SYSTEM \"" + file.toUri() + "\">")) {
      String xml =
          doctype
              + "<methodCall><methodName>m</methodName><params><param><value>&leak;</value>"
              + "</param></params></methodCall>";
      XenApiException e = failure(xml.getBytes(UTF_8));
      assertThat(String.join(" ", e.errorDescription())).as(doctype).doesNotContain(secret);
    }
  }

  @Test
  void anyDoctypeIsRefusedEvenWithoutEntities() {
    // Proves the refusal is of the DOCTYPE itself, not of a failed entity lookup.
    String xml = "<!DOCTYPE methodCall><methodCall><methodName>m</methodName></methodCall>";
    assertThat(reason(xml)).startsWith("XML that is not well-formed or has a DOCTYPE");
  }

  @Test
  void billionLaughsIsRefusedAtOnce() {
    StringBuilder dtd = new StringBuilder("<!DOCTYPE lolz [<!ENTITY lol0 \"lol\">");
    for (int i = 1; i <= 9; i++) {
      String previous = "&lol" + (i - 1) + ";";
      dtd.append("<!ENTITY lol").append(i).append(" \"").append(previous.repeat(10)).append("\">");
    }
    String xml =
        dtd
            + "]><methodCall><methodName>m</methodName><params><param><value>&lol9;</value>"
            + "</param></params></methodCall>";
    long start = System.nanoTime();
    assertThat(reason(xml)).startsWith("XML that is not well-formed or has a DOCTYPE");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
  }

  /** A well-formed call of exactly {@code size} bytes: one untyped string padded to fit. */
  static byte[] callOfSize(int size) {
    byte[] frame = (CALL_START + "<value></value>" + CALL_END).getBytes(UTF_8);
    byte[] body = new byte[size];
    int padAt = (CALL_START + "<value>").length();
    System.arraycopy(frame, 0, body, 0, padAt);
    Arrays.fill(body, padAt, padAt + size - frame.length, (byte) 'x');
    System.arraycopy(frame, padAt, body, padAt + size - frame.length, frame.length - padAt);
    return body;
  }

  @Test
  void bodiesUpToTheCapAreDecodedAndLongerOnesRefusedUnread() throws Exception {
    int cap = XmlRpcCodec.MAX_BODY_BYTES;
    assertThat(cap).isEqualTo(16 * 1024 * 1024);
    byte[] atCap = callOfSize(cap);
    assertThat(((String) XmlRpcCodec.decode(atCap).params().get(0)).length())
        .isEqualTo(cap - (CALL_START + "<value></value>" + CALL_END).length());
    assertThat(failure(callOfSize(cap + 1)).params().get(1))
        .isEqualTo("a body over 16777216 bytes");
  }

  static String nestedArrays(int depth) {
    return CALL_START
        + "<value><array><data>".repeat(depth)
        + "<value>leaf</value>"
        + "</data></array></value>".repeat(depth)
        + CALL_END;
  }

  @Test
  void nestingIsBounded() throws Exception {
    int max = XmlRpcCodec.MAX_NESTING_DEPTH;
    Object value = XmlRpcCodecDecodeTest.decode(nestedArrays(max)).params().get(0);
    for (int i = 0; i < max; i++) {
      assertThat(value).isInstanceOf(List.class);
      value = ((List<?>) value).get(0);
    }
    assertThat(value).isEqualTo("leaf");
    assertThat(reason(nestedArrays(max + 1)))
        .isEqualTo("arrays and structs nested deeper than " + max);
    // Far deeper than any stack could recurse: refused at depth 65, without a StackOverflowError.
    assertThat(reason(nestedArrays(200_000)))
        .isEqualTo("arrays and structs nested deeper than " + max);
  }
}
