package org.xsm.server.rpc;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * XenAPI over JSON-RPC, versions 1 and 2 (2 when the request says {@code "jsonrpc":"2.0"}).
 *
 * <p>Decoding maps JSON to plain Java values: integral numbers to Long, other numbers to Double,
 * objects to insertion-ordered maps, arrays to lists; strings stay strings (a datetime is not
 * recognised, the handler converts). Encoding writes integers as JSON numbers, {@link Instant} as
 * {@code "20261122T06:01:04Z"}, {@code byte[]} as base64, and a null value as "" (XenAPI's void).
 * JSON has no NaN or infinity: those doubles go out as the strings {@code "NaN"}, {@code
 * "Infinity"}, {@code "-Infinity"} (Jackson's default), which JavaScript's Number() reads back.
 *
 * <p>Answers must go out with a Content-Type of exactly {@value #CONTENT_TYPE}: the npm client
 * switches to XML-RPC for good on anything else, even {@code application/json; charset=utf-8}.
 *
 * <p>Stateless and thread-safe.
 */
public final class JsonRpcCodec {

  /** Largest request body decoded; see {@link XmlRpcCodec#MAX_BODY_BYTES}. */
  public static final int MAX_BODY_BYTES = XmlRpcCodec.MAX_BODY_BYTES;

  public static final String CONTENT_TYPE = "application/json";

  /**
   * Undecodable bodies fail with xapi's unmarshal error on JSON-RPC too: xapi has no JSON-specific
   * code, and SDKs map this one to a typed exception.
   */
  public static final String UNMARSHAL_FAILURE = XmlRpcCodec.UNMARSHAL_FAILURE;

  private static final String EXPECTED = "a JSON-RPC request object";

  /** The code of every v2 error object; the XenAPI code travels in {@code message}. */
  private static final int ERROR_CODE = 1;

  // The request object and its params array wrap the values.
  private static final ObjectMapper MAPPER =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxNestingDepth(XmlRpcCodec.MAX_NESTING_DEPTH + 2)
                          .build())
                  .build())
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private JsonRpcCodec() {}

  /**
   * Decodes one call. A missing or null {@code params} is an empty list; a missing {@code id} is
   * null.
   *
   * @throws XenApiException {@value #UNMARSHAL_FAILURE} with what was expected and a short reason,
   *     for a body that is too long, not JSON, or not a request object with a string method and an
   *     array of params
   */
  public static RpcRequest decode(byte[] body) throws XenApiException {
    if (body == null || body.length == 0) {
      throw unmarshal("an empty body");
    }
    if (body.length > MAX_BODY_BYTES) {
      throw unmarshal("a body over " + MAX_BODY_BYTES + " bytes");
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(body);
    } catch (StreamConstraintsException e) {
      throw unmarshal("arrays and objects nested deeper than " + XmlRpcCodec.MAX_NESTING_DEPTH);
    } catch (JsonProcessingException e) {
      // Jackson's messages quote the input; only the position goes back to the client.
      JsonLocation at = e.getLocation();
      throw unmarshal(
          at == null
              ? "JSON that is not well-formed"
              : "JSON that is not well-formed (line "
                  + at.getLineNr()
                  + ", column "
                  + at.getColumnNr()
                  + ")");
    } catch (IOException e) {
      throw unmarshal("bytes that are not JSON text");
    }
    if (root == null || root.isMissingNode()) {
      throw unmarshal("a body with no JSON value");
    }
    if (!root.isObject()) {
      throw unmarshal(
          "a JSON " + root.getNodeType().name().toLowerCase(Locale.ROOT) + ", not an object");
    }
    JsonNode version = root.get("jsonrpc");
    boolean v2 = version != null && version.isTextual() && version.textValue().equals("2.0");
    JsonNode method = root.get("method");
    if (method == null || !method.isTextual() || method.textValue().isBlank()) {
      throw unmarshal("a request without a string \"method\"");
    }
    JsonNode params = root.get("params");
    List<Object> values;
    if (params == null || params.isNull()) {
      values = new ArrayList<>();
    } else if (params.isArray()) {
      values = toList(params);
    } else {
      throw unmarshal("\"params\" that is not an array");
    }
    JsonNode id = root.get("id");
    return new RpcRequest(
        method.textValue().strip(), values, v2 ? 2 : 1, id == null ? null : toJava(id));
  }

  private static Object toJava(JsonNode node) throws XenApiException {
    switch (node.getNodeType()) {
      case STRING:
        return node.textValue();
      case NUMBER:
        if (!node.isIntegralNumber()) {
          return node.doubleValue();
        }
        if (!node.canConvertToLong()) {
          throw unmarshal("an integer outside the 64-bit range");
        }
        return node.longValue();
      case BOOLEAN:
        return node.booleanValue();
      case NULL:
        return null;
      case ARRAY:
        return toList(node);
      case OBJECT:
        Map<String, Object> map = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
          map.put(field.getKey(), toJava(field.getValue()));
        }
        return map;
      default:
        // BINARY and POJO nodes come only from code, MISSING never from a parsed array or object.
        throw new IllegalStateException("parsed JSON yielded a " + node.getNodeType() + " node");
    }
  }

  private static List<Object> toList(JsonNode array) throws XenApiException {
    List<Object> list = new ArrayList<>(array.size());
    for (JsonNode item : array) {
      list.add(toJava(item));
    }
    return list;
  }

  private static XenApiException unmarshal(String received) {
    return new XenApiException(XenApiError.XMLRPC_UNMARSHAL_FAILURE, EXPECTED, received);
  }

  /**
   * v2 {@code {"jsonrpc":"2.0","result":value,"id":id}}; v1 {@code
   * {"result":value,"error":null,"id":id}}.
   *
   * @param request the decoded call, for its version and id
   */
  public static byte[] encodeSuccess(RpcRequest request, Object value) {
    boolean v2 = isV2(request);
    return write(
        g -> {
          if (v2) {
            g.writeStringField("jsonrpc", "2.0");
          }
          g.writeFieldName("result");
          writeValue(g, value);
          if (!v2) {
            g.writeNullField("error");
          }
          writeId(g, request.id());
        });
  }

  /**
   * v2 {@code {"jsonrpc":"2.0","error":{"code":1,"message":CODE,"data":[params...]},"id":id}}; v1
   * {@code {"result":null,"error":[CODE,params...],"id":id}}.
   *
   * @param request the decoded call, or null when the body could not be decoded (then as {@link
   *     #encodeFailure(XenApiException)})
   */
  public static byte[] encodeFailure(RpcRequest request, XenApiException e) {
    if (request == null) {
      return encodeFailure(e);
    }
    boolean v2 = isV2(request);
    return write(
        g -> {
          if (v2) {
            g.writeStringField("jsonrpc", "2.0");
            writeErrorObject(g, e);
          } else {
            g.writeNullField("result");
            g.writeFieldName("error");
            writeValue(g, e.errorDescription());
          }
          writeId(g, request.id());
        });
  }

  /**
   * The answer to a body that could not be decoded, so whose version and id are unknown: the v2
   * error shape with a null id, as JSON-RPC 2.0 prescribes for unparseable requests.
   */
  public static byte[] encodeFailure(XenApiException e) {
    return write(
        g -> {
          g.writeStringField("jsonrpc", "2.0");
          writeErrorObject(g, e);
          g.writeNullField("id");
        });
  }

  private static boolean isV2(RpcRequest request) {
    return switch (request.jsonRpcVersion()) {
      case 1 -> false;
      case 2 -> true;
      default ->
          throw new IllegalArgumentException(
              "not a JSON-RPC request (version " + request.jsonRpcVersion() + ")");
    };
  }

  private static void writeErrorObject(JsonGenerator g, XenApiException e) throws IOException {
    g.writeObjectFieldStart("error");
    g.writeNumberField("code", ERROR_CODE);
    g.writeStringField("message", e.code());
    g.writeFieldName("data");
    writeValue(g, e.params());
    g.writeEndObject();
  }

  private static void writeId(JsonGenerator g, Object id) throws IOException {
    g.writeFieldName("id");
    if (id == null) {
      g.writeNull(); // the envelope's null, unlike a null value
    } else {
      writeValue(g, id);
    }
  }

  /** Writes one value; a type not named here is the string of its {@code toString()}. */
  private static void writeValue(JsonGenerator g, Object value) throws IOException {
    if (value == null) {
      g.writeString(""); // XenAPI has no null; void and absent are ""
    } else if (value instanceof String s) {
      g.writeString(s);
    } else if (value instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte) {
      g.writeNumber(((Number) value).longValue());
    } else if (value instanceof BigInteger big) {
      g.writeNumber(big);
    } else if (value instanceof BigDecimal decimal) {
      g.writeNumber(decimal);
    } else if (value instanceof Double || value instanceof Float) {
      g.writeNumber(((Number) value).doubleValue());
    } else if (value instanceof Instant instant) {
      g.writeString(XenApiDateTime.format(instant));
    } else if (value instanceof java.time.LocalDateTime local) {
      g.writeString(XenApiDateTime.format(local));
    } else if (value instanceof byte[] bytes) {
      g.writeString(Base64.getEncoder().encodeToString(bytes));
    } else if (value instanceof Map<?, ?> map) {
      g.writeStartObject();
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        g.writeFieldName(String.valueOf(entry.getKey()));
        writeValue(g, entry.getValue());
      }
      g.writeEndObject();
    } else if (value instanceof Collection<?> items) {
      g.writeStartArray();
      for (Object item : items) {
        writeValue(g, item);
      }
      g.writeEndArray();
    } else if (value.getClass().isArray()) {
      g.writeStartArray();
      for (int i = 0, n = Array.getLength(value); i < n; i++) {
        writeValue(g, Array.get(value, i));
      }
      g.writeEndArray();
    } else {
      g.writeString(value.toString());
    }
  }

  /** The body of a response object, between its braces. */
  private interface Fields {
    void write(JsonGenerator g) throws IOException;
  }

  private static byte[] write(Fields fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
      g.writeStartObject();
      fields.write(g);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("writing JSON to memory failed", e);
    }
    return out.toByteArray();
  }
}
