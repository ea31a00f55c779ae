package org.xsm.server.rpc;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/** JSON-RPC v1 and v2: decoding, exact response envelopes, refusals. */
class JsonRpcCodecTest {

  static RpcRequest decode(String json) throws XenApiException {
    return JsonRpcCodec.decode(json.getBytes(UTF_8));
  }

  static String text(byte[] body) {
    return new String(body, UTF_8);
  }

  @Test
  void npmClientLoginAndEventFromAsV2() throws Exception {
    // xen-api 4.x (Xen Orchestra) posts JSON-RPC 2.0 with numeric ids and JS numbers.
    assertThat(
            decode(
                "{\"id\":0,\"jsonrpc\":\"2.0\",\"method\":\"session.login_with_password\","
                    + "\"params\":[\"root\",\"secret\"]}"))
        .isEqualTo(new RpcRequest("session.login_with_password", List.of("root", "secret"), 2, 0L));
    RpcRequest eventFrom =
        decode(
            "{\"jsonrpc\":\"2.0\",\"method\":\"event.from\",\"params\":[\"OpaqueRef:s\","
                + "[\"vm\",\"pool\"],\"00000000000000000012,00000000000000000003\",60.1],"
                + "\"id\":17}");
    assertThat(eventFrom.jsonRpcVersion()).isEqualTo(2);
    assertThat(eventFrom.id()).isEqualTo(17L);
    assertThat(eventFrom.params())
        .containsExactly(
            "OpaqueRef:s",
            List.of("vm", "pool"),
            "00000000000000000012,00000000000000000003",
            60.1);
  }

  @Test
  void v1WhenJsonrpcIsAbsentOrNot2() throws Exception {
    RpcRequest v1 = decode("{\"method\":\"VM.get_all\",\"params\":[\"s\"],\"id\":\"a-1\"}");
    assertThat(v1).isEqualTo(new RpcRequest("VM.get_all", List.of("s"), 1, "a-1"));
    assertThat(decode("{\"jsonrpc\":\"1.0\",\"method\":\"m\",\"id\":1}").jsonRpcVersion())
        .isEqualTo(1);
    assertThat(decode("{\"jsonrpc\":2.0,\"method\":\"m\",\"id\":1}").jsonRpcVersion()).isEqualTo(1);
  }

  @Test
  void paramsAndIdMayBeMissingOrNull() throws Exception {
    assertThat(decode("{\"jsonrpc\":\"2.0\",\"method\":\"system.listMethods\"}"))
        .isEqualTo(new RpcRequest("system.listMethods", List.of(), 2, null));
    assertThat(decode("{\"method\":\"m\",\"params\":null,\"id\":null}"))
        .isEqualTo(new RpcRequest("m", List.of(), 1, null));
    assertThat(decode("{\"method\":\"m\",\"params\":[],\"id\":{\"k\":[1]}}").id())
        .isEqualTo(Map.of("k", List.of(1L)));
  }

  @Test
  void valuesMapToPlainJavaTypes() throws Exception {
    List<Object> params =
        decode(
                " {\n \"method\" : \"m\" ,\n \"params\" : [ 42 , -1, 4294967296, "
                    + "9223372036854775807, 1.5, 1e3, 1.0, -0.0, true, false, null, \"42\", "
                    + "\"20261122T06:01:04Z\", \"\", {\"z\":1,\"a\":{\"b\":[]}}, [[],{}] ] }\n")
            .params();
    assertThat(params)
        .containsExactly(
            42L,
            -1L,
            4294967296L,
            Long.MAX_VALUE,
            1.5,
            1000.0,
            1.0,
            -0.0,
            true,
            false,
            null,
            "42",
            "20261122T06:01:04Z",
            "",
            Map.of("z", 1L, "a", Map.of("b", List.of())),
            List.of(List.of(), Map.of()));
    assertThat(params.get(14)).isInstanceOf(LinkedHashMap.class);
    assertThat(((Map<?, ?>) params.get(14)).keySet().toArray()).containsExactly("z", "a");
  }

  @Test
  void unicodeAndControlCharactersRoundTrip() throws Exception {
    String text = "\u00e9 \u4e2d \uD83D\uDE00 \u0000\u0001\u001F tab\t nl\n \"q\" \\ /";
    RpcRequest request =
        decode(
            "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":["
                + new ObjectMapper().writeValueAsString(text)
                + "],\"id\":1}");
    assertThat(request.params()).containsExactly(text);
    byte[] response = JsonRpcCodec.encodeSuccess(request, text);
    assertThat(new ObjectMapper().readTree(response).get("result").textValue()).isEqualTo(text);
    // Control characters go out escaped, never raw.
    assertThat(text(JsonRpcCodec.encodeSuccess(request, "a\u0001b\nc")))
        .isEqualTo("{\"jsonrpc\":\"2.0\",\"result\":\"a\\u0001b\\nc\",\"id\":1}");
  }

  static final RpcRequest V2 = new RpcRequest("VM.get_all", List.of("s"), 2, 3L);
  static final RpcRequest V1 = new RpcRequest("VM.get_all", List.of("s"), 1, "abc");

  @Test
  void successEnvelopes() {
    assertThat(text(JsonRpcCodec.encodeSuccess(V2, List.of("OpaqueRef:a", "OpaqueRef:b"))))
        .isEqualTo("{\"jsonrpc\":\"2.0\",\"result\":[\"OpaqueRef:a\",\"OpaqueRef:b\"],\"id\":3}");
    assertThat(text(JsonRpcCodec.encodeSuccess(V1, "OpaqueRef:a")))
        .isEqualTo("{\"result\":\"OpaqueRef:a\",\"error\":null,\"id\":\"abc\"}");
    // Void is "", in both versions.
    assertThat(text(JsonRpcCodec.encodeSuccess(V2, null)))
        .isEqualTo("{\"jsonrpc\":\"2.0\",\"result\":\"\",\"id\":3}");
    assertThat(text(JsonRpcCodec.encodeSuccess(V1, null)))
        .isEqualTo("{\"result\":\"\",\"error\":null,\"id\":\"abc\"}");
    RpcRequest noId = new RpcRequest("m", List.of(), 2, null);
    assertThat(text(JsonRpcCodec.encodeSuccess(noId, true)))
        .isEqualTo("{\"jsonrpc\":\"2.0\",\"result\":true,\"id\":null}");
  }

  @Test
  void failureEnvelopes() {
    XenApiException e = new XenApiException(XenApiError.HANDLE_INVALID, "VM", "OpaqueRef:x");
    assertThat(text(JsonRpcCodec.encodeFailure(V2, e)))
        .isEqualTo(
            "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"HANDLE_INVALID\","
                + "\"data\":[\"VM\",\"OpaqueRef:x\"]},\"id\":3}");
    assertThat(text(JsonRpcCodec.encodeFailure(V1, e)))
        .isEqualTo(
            "{\"result\":null,\"error\":[\"HANDLE_INVALID\",\"VM\",\"OpaqueRef:x\"],\"id\":\"abc\"}");
    XenApiException bare = XenApiException.withCode("SESSION_NOT_REGISTERED");
    assertThat(text(JsonRpcCodec.encodeFailure(V2, bare)))
        .isEqualTo(
            "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"SESSION_NOT_REGISTERED\","
                + "\"data\":[]},\"id\":3}");
  }

  @Test
  void failureForABodyThatCouldNotBeDecoded() {
    XenApiException e = catchThrowableOfType(XenApiException.class, () -> decode("{not json"));
    String expected =
        "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"XMLRPC_UNMARSHAL_FAILURE\","
            + "\"data\":[\"a JSON-RPC request object\","
            + "\"JSON that is not well-formed (line 1, column 2)\"]},\"id\":null}";
    assertThat(text(JsonRpcCodec.encodeFailure(e))).isEqualTo(expected);
    assertThat(text(JsonRpcCodec.encodeFailure(null, e))).isEqualTo(expected);
  }

  @Test
  void valuesAreWrittenAsXenApiTypes() {
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("memory", 4294967296L);
    record.put("VCPUs", 2);
    record.put("big", new BigInteger("18446744073709551616"));
    record.put("progress", 0.25);
    record.put("half", 0.5f);
    record.put("created", Instant.parse("2026-11-22T06:01:04.700Z"));
    record.put("blob", new byte[] {0, 1, 'h', 'i', -1});
    record.put("tags", Arrays.asList("a", null));
    record.put("ints", new int[] {1, 2});
    record.put("map", Map.of("k", "v"));
    record.put("wire", Thread.State.NEW);
    assertThat(text(JsonRpcCodec.encodeSuccess(V2, record)))
        .isEqualTo(
            "{\"jsonrpc\":\"2.0\",\"result\":{\"memory\":4294967296,\"VCPUs\":2,"
                + "\"big\":18446744073709551616,\"progress\":0.25,\"half\":0.5,"
                + "\"created\":\"20261122T06:01:04Z\",\"blob\":\"AAFoaf8=\","
                + "\"tags\":[\"a\",\"\"],\"ints\":[1,2],\"map\":{\"k\":\"v\"},"
                + "\"wire\":\"NEW\"},\"id\":3}");
  }

  @Test
  void anXmlRpcRequestIsNotAnswered() {
    RpcRequest xml = new RpcRequest("m", List.of(), 0, null);
    assertThatThrownBy(() -> JsonRpcCodec.encodeSuccess(xml, ""))
        .isInstanceOf(IllegalArgumentException.class);
  }

  static String reason(byte[] body) {
    XenApiException e =
        catchThrowableOfType(XenApiException.class, () -> JsonRpcCodec.decode(body));
    assertThat(e).as("decode must fail with XenApiException").isNotNull();
    assertThat(e.code()).isEqualTo("XMLRPC_UNMARSHAL_FAILURE");
    assertThat(e.params()).hasSize(2).first().isEqualTo("a JSON-RPC request object");
    return e.params().get(1);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      textBlock =
          """
          not json                                          | JSON that is not well-formed (line 1, column
          {"method":"m"} trailing                           | JSON that is not well-formed (line 1, column
          {"method":"m",}                                   | JSON that is not well-formed (line 1, column
          {"method":"m","method":"n"}                       | JSON that is not well-formed (line 1, column
          {"method":"m","params":["a\tb"]}                  | JSON that is not well-formed (line 1, column
          ` `                                               | a body with no JSON value
          ["m"]                                             | a JSON array, not an object
          "m"                                               | a JSON string, not an object
          {}                                                | a request without a string "method"
          {"method":7}                                      | a request without a string "method"
          {"method":" "}                                    | a request without a string "method"
          {"method":"m","params":{"a":1}}                   | "params" that is not an array
          {"method":"m","params":"s"}                       | "params" that is not an array
          {"method":"m","params":[18446744073709551616]}    | an integer outside the 64-bit range
          """)
  void malformedRequests(String json, String expectedReason) {
    assertThat(reason(json.getBytes(UTF_8))).startsWith(expectedReason);
  }

  @Test
  void parserMessagesDoNotEchoTheBody() {
    String reason = reason("{\"method\":secret_token}".getBytes(UTF_8));
    assertThat(reason).isEqualTo("JSON that is not well-formed (line 1, column 11)");
  }

  @Test
  void emptyOversizeAndDeepBodies() throws Exception {
    assertThat(reason(new byte[0])).isEqualTo("an empty body");
    assertThat(reason(null)).isEqualTo("an empty body");

    int cap = JsonRpcCodec.MAX_BODY_BYTES;
    String frame = "{\"method\":\"m\",\"params\":[\"\"]}";
    String padded = frame.replace("[\"\"]", "[\"" + "x".repeat(cap - frame.length()) + "\"]");
    assertThat(padded.length()).isEqualTo(cap);
    assertThat(((String) decode(padded).params().get(0)).length()).isEqualTo(cap - frame.length());
    assertThat(reason((padded + " ").getBytes(UTF_8))).isEqualTo("a body over 16777216 bytes");

    int max = XmlRpcCodec.MAX_NESTING_DEPTH;
    Object value = decode(nested(max)).params().get(0);
    for (int i = 0; i < max; i++) {
      value = ((List<?>) value).get(0);
    }
    assertThat(value).isEqualTo("leaf");
    assertThat(reason(nested(max + 1).getBytes(UTF_8)))
        .isEqualTo("arrays and objects nested deeper than " + max);
    assertThat(reason(nested(200_000).getBytes(UTF_8)))
        .isEqualTo("arrays and objects nested deeper than " + max);
  }

  /** A call whose one parameter is {@code depth} nested arrays around a string. */
  static String nested(int depth) {
    return "{\"method\":\"m\",\"params\":["
        + "[".repeat(depth)
        + "\"leaf\""
        + "]".repeat(depth)
        + "]}";
  }
}
