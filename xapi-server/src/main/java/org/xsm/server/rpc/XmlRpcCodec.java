package org.xsm.server.rpc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * XenAPI over XML-RPC: decodes a {@code <methodCall>} and encodes the {@code Status}/{@code Value}
 * response struct, in the exact shapes XenAPI.py, the Java SDK (Apache XML-RPC) and the npm xen-api
 * client accept.
 *
 * <p>Decoding accepts typed and untyped values and whitespace between tags, and maps them to
 * String, Long (every integer type), Double, Boolean, {@link Instant}, {@code Map<String,Object>}
 * (insertion-ordered), {@code List<Object>}, {@code byte[]} (base64) and null ({@code <nil/>}). The
 * parser refuses any DOCTYPE, so no entity (external or billion-laughs) is ever declared, let alone
 * expanded. Surrogate-pair character references, which the Java SDK's transport writes for
 * characters beyond U+FFFF, are tolerated (see {@link SurrogateReferences}).
 *
 * <p>Encoding writes compact XML (not one byte between tags: the npm client breaks on whitespace),
 * integers as strings of digits (the Java SDK does {@code Long.valueOf((String) o)}), strings and
 * the empty string untyped, and null as the empty string: XenAPI has no nil and its void is "".
 *
 * <p>Stateless and thread-safe.
 */
public final class XmlRpcCodec {

  /**
   * Largest request body decoded, 16 MiB. XenAPI calls are small (the largest are record-creating
   * calls of a few KiB); the HTTP layer should refuse longer bodies before buffering them.
   */
  public static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

  /**
   * Deepest nesting of arrays and structs (JSON: arrays and objects) accepted in a parameter. It
   * bounds the JSON decoder's recursion and what one call can make the server build; XenAPI's
   * parameters nest 2 deep at most (a record holding maps).
   */
  public static final int MAX_NESTING_DEPTH = 64;

  /** The error code for a body that is not a call (xapi's params: expected, received). */
  public static final String UNMARSHAL_FAILURE = "XMLRPC_UNMARSHAL_FAILURE";

  public static final String CONTENT_TYPE = "text/xml";

  private static final String RESPONSE_START =
      "<?xml version=\"1.0\"?><methodResponse><params><param>";
  private static final String RESPONSE_END = "</param></params></methodResponse>";
  private static final String EXPECTED = "an XML-RPC methodCall";

  private XmlRpcCodec() {}

  /**
   * Decodes one call. The method name is stripped of surrounding whitespace; a missing {@code
   * <params>} is an empty parameter list; {@code jsonRpcVersion} is 0 and {@code id} null.
   *
   * @throws XenApiException {@value #UNMARSHAL_FAILURE} with what was expected and a short reason,
   *     for a body that is too long, not well-formed, carries a DOCTYPE, or is not a methodCall
   */
  public static RpcRequest decode(byte[] body) throws XenApiException {
    if (body == null || body.length == 0) {
      throw unmarshal("an empty body");
    }
    if (body.length > MAX_BODY_BYTES) {
      throw unmarshal("a body over " + MAX_BODY_BYTES + " bytes");
    }
    XmlRpcRequestHandler handler = new XmlRpcRequestHandler(MAX_NESTING_DEPTH);
    try {
      // The parser reads the encoding from the XML declaration (UTF-8 without one).
      byte[] document = SurrogateReferences.join(body);
      parser().parse(new InputSource(new ByteArrayInputStream(document)), handler);
    } catch (XmlRpcRequestHandler.NotXmlRpc e) {
      throw unmarshal(e.getMessage());
    } catch (SAXParseException e) {
      // The parser's own message can quote the document (or, were entities ever resolved, a
      // file), so only the position goes back to the client.
      throw unmarshal(
          "XML that is not well-formed or has a DOCTYPE (line "
              + e.getLineNumber()
              + ", column "
              + e.getColumnNumber()
              + ")");
    } catch (SAXException e) {
      throw unmarshal("XML the parser rejected");
    } catch (IOException e) {
      // Reading a byte array fails only on bytes invalid in the declared encoding.
      throw unmarshal("bytes invalid in the document's character encoding");
    }
    return handler.request();
  }

  /** One parser per thread: building one costs 10x a parse. */
  private static final ThreadLocal<SAXParser> PARSERS =
      ThreadLocal.withInitial(XmlRpcCodec::newParser);

  /**
   * This thread's parser, reset to its factory's features; {@code reset()} drops properties, so the
   * external-access restrictions are set again before every use.
   */
  private static SAXParser parser() throws SAXException {
    SAXParser p = PARSERS.get();
    p.reset();
    p.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
    p.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
    return p;
  }

  /**
   * A new parser. Factories are not thread-safe, so each thread builds its own; the JDK's built-in
   * implementation is named explicitly so that no XML library on the class path can replace it with
   * one lacking these features.
   */
  private static SAXParser newParser() {
    try {
      SAXParserFactory factory = SAXParserFactory.newDefaultInstance();
      factory.setNamespaceAware(true);
      factory.setValidating(false);
      factory.setXIncludeAware(false);
      factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      factory.setFeature("http://xml.org/sax/features/external-general-entities", false);
      factory.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
      factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
      SAXParser parser = factory.newSAXParser();
      parser.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
      parser.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
      return parser;
    } catch (ParserConfigurationException | SAXException e) {
      throw new IllegalStateException("the JDK's SAX parser lacks a required safety feature", e);
    }
  }

  private static XenApiException unmarshal(String received) {
    return new XenApiException(XenApiError.XMLRPC_UNMARSHAL_FAILURE, EXPECTED, received);
  }

  /** {@code {Status: "Success", Value: value}}, the answer to every call but system.* ones. */
  public static byte[] encodeSuccess(Object value) {
    StringBuilder out = new StringBuilder(RESPONSE_START);
    out.append("<value><struct><member><name>Status</name><value>Success</value></member>");
    out.append("<member><name>Value</name>");
    appendValue(out, value);
    out.append("</member></struct></value>");
    return finish(out);
  }

  /** {@code {Status: "Failure", ErrorDescription: [code, params...]}}, all strings. */
  public static byte[] encodeFailure(XenApiException e) {
    StringBuilder out = new StringBuilder(RESPONSE_START);
    out.append("<value><struct><member><name>Status</name><value>Failure</value></member>");
    out.append("<member><name>ErrorDescription</name>");
    appendValue(out, e.errorDescription());
    out.append("</member></struct></value>");
    return finish(out);
  }

  /** The value alone, without the Status struct: what system.listMethods answers. */
  public static byte[] encodeRaw(Object value) {
    StringBuilder out = new StringBuilder(RESPONSE_START);
    appendValue(out, value);
    return finish(out);
  }

  private static byte[] finish(StringBuilder out) {
    return out.append(RESPONSE_END).toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Appends {@code <value>...</value>}. Any type not named here (Long, Integer, enums holding wire
   * names...) is written as the string of its {@code toString()}, which is how XenAPI sends int64.
   */
  private static void appendValue(StringBuilder out, Object value) {
    out.append("<value>");
    if (value != null) { // XenAPI has no nil; void and absent are "", i.e. <value></value>
      appendContent(out, value);
    }
    out.append("</value>");
  }

  private static void appendContent(StringBuilder out, Object value) {
    if (value instanceof Boolean b) {
      out.append("<boolean>").append(b ? '1' : '0').append("</boolean>");
    } else if (value instanceof Double || value instanceof Float || value instanceof BigDecimal) {
      out.append("<double>").append(formatDouble((Number) value)).append("</double>");
    } else if (value instanceof Instant instant) {
      out.append("<dateTime.iso8601>")
          .append(XenApiDateTime.format(instant))
          .append("</dateTime.iso8601>");
    } else if (value instanceof java.time.LocalDateTime local) {
      out.append("<dateTime.iso8601>")
          .append(XenApiDateTime.format(local))
          .append("</dateTime.iso8601>");
    } else if (value instanceof byte[] bytes) {
      out.append("<base64>").append(Base64.getEncoder().encodeToString(bytes)).append("</base64>");
    } else if (value instanceof Map<?, ?> map) {
      out.append("<struct>");
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        out.append("<member><name>");
        appendEscaped(out, String.valueOf(entry.getKey()));
        out.append("</name>");
        appendValue(out, entry.getValue());
        out.append("</member>");
      }
      out.append("</struct>");
    } else if (value instanceof Collection<?> items) {
      out.append("<array><data>");
      for (Object item : items) {
        appendValue(out, item);
      }
      out.append("</data></array>");
    } else if (value.getClass().isArray()) {
      out.append("<array><data>");
      for (int i = 0, n = Array.getLength(value); i < n; i++) {
        appendValue(out, Array.get(value, i));
      }
      out.append("</data></array>");
    } else {
      appendEscaped(out, value.toString());
    }
  }

  /**
   * Plain decimal notation, as the XML-RPC spec asks (no exponent); NaN and the infinities as Java
   * spells them, which Python's float(), Java's Double.valueOf and JavaScript's parseFloat all read
   * back.
   */
  static String formatDouble(Number number) {
    if (number instanceof BigDecimal decimal) {
      return decimal.toPlainString();
    }
    double d = number.doubleValue();
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return Double.toString(d);
    }
    // Float.toString keeps a float's short form (0.1f is "0.1", not 0.10000000149011612).
    String shortest = number instanceof Float f ? Float.toString(f) : Double.toString(d);
    return new BigDecimal(shortest).toPlainString();
  }

  /**
   * Escapes {@code & < >}, and CR as a character reference so that parsers do not turn it into LF.
   * Characters XML 1.0 cannot carry at all, escaped or not (C0 controls other than tab, LF, CR;
   * U+FFFE; U+FFFF), are dropped; an unpaired surrogate becomes U+FFFD.
   */
  static void appendEscaped(StringBuilder out, String text) {
    for (int i = 0, n = text.length(); i < n; i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '\r' -> out.append("&#13;");
        case '\t', '\n' -> out.append(c);
        default -> {
          if (c < 0x20 || c == '\uFFFE' || c == '\uFFFF') {
            // dropped: not an XML 1.0 character
          } else if (!Character.isSurrogate(c)) {
            out.append(c);
          } else if (Character.isHighSurrogate(c)
              && i + 1 < n
              && Character.isLowSurrogate(text.charAt(i + 1))) {
            out.append(c).append(text.charAt(++i));
          } else {
            out.append('\uFFFD');
          }
        }
      }
    }
  }
}
