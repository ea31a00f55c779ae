package org.xsm.server.rpc;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.xml.sax.Attributes;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Builds an {@link RpcRequest} from the SAX events of one {@code <methodCall>} document.
 *
 * <p>Streaming rather than DOM so that memory follows the decoded values, not the number of tags: a
 * 16 MiB body of empty elements would otherwise become hundreds of MiB of DOM nodes. The grammar is
 * checked as elements open, so anything outside it fails at its first tag. Not thread-safe: one
 * instance per document.
 */
final class XmlRpcRequestHandler extends DefaultHandler {

  /** A request that is well-formed XML but not an XML-RPC call we accept. */
  static final class NotXmlRpc extends SAXException {
    private static final long serialVersionUID = 1L;

    NotXmlRpc(String reason) {
      super(reason);
    }
  }

  private static final Set<String> TYPES =
      Set.of(
          "string",
          "int",
          "i4",
          "i8",
          "boolean",
          "double",
          "dateTime.iso8601",
          "base64",
          "nil",
          "struct",
          "array");

  /** Decimal floating point as XML-RPC and Python's repr write it; no NaN, no hex, no suffix. */
  private static final Pattern DOUBLE =
      Pattern.compile("[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?");

  /** One open element and what its children have delivered so far. */
  private static final class Frame {
    final String element;
    final StringBuilder text = new StringBuilder();
    boolean hasFirst; // methodCall: methodName seen; member: name seen
    boolean hasSecond; // methodCall: params; param/value/member: value or type; array: data
    String name; // methodCall: method name; member: member name
    Object value; // param, value, member: the child value
    List<Object> items; // params, data, array, methodCall: the values
    Map<String, Object> members; // struct

    Frame(String element) {
      this.element = element;
    }
  }

  private final int maxNestingDepth;
  private final Deque<Frame> stack = new ArrayDeque<>();
  private int nestingDepth; // open <struct> and <array> elements
  private RpcRequest request;

  XmlRpcRequestHandler(int maxNestingDepth) {
    this.maxNestingDepth = maxNestingDepth;
  }

  /** The decoded call; only valid after the parser reached the end of the document. */
  RpcRequest request() {
    return request;
  }

  @Override
  public void startElement(String uri, String localName, String qName, Attributes attributes)
      throws SAXException {
    // Namespace-aware parsing: <ex:nil/> from Apache XML-RPC's extensions is "nil" here.
    String element = localName.isEmpty() ? qName : localName;
    Frame parent = stack.peek();
    if (!admit(parent, element)) {
      throw new NotXmlRpc(
          parent == null
              ? "document element is <" + element + ">, not <methodCall>"
              : "unexpected <" + element + "> in <" + parent.element + ">");
    }
    if ((element.equals("struct") || element.equals("array")) && ++nestingDepth > maxNestingDepth) {
      throw new NotXmlRpc("arrays and structs nested deeper than " + maxNestingDepth);
    }
    Frame frame = new Frame(element);
    switch (element) {
      case "params", "data" -> frame.items = new ArrayList<>();
      case "struct" -> frame.members = new LinkedHashMap<>();
      default -> {}
    }
    stack.push(frame);
  }

  /** Whether {@code element} may open inside {@code parent} now; marks the slot it fills. */
  private static boolean admit(Frame parent, String element) {
    if (parent == null) {
      return element.equals("methodCall");
    }
    return switch (parent.element) {
      case "methodCall" ->
          first(parent, element, "methodName")
              || (element.equals("params") && parent.hasFirst && second(parent));
      case "member" ->
          first(parent, element, "name")
              || (element.equals("value") && parent.hasFirst && second(parent));
      case "params" -> element.equals("param");
      case "param" -> element.equals("value") && second(parent);
      case "value" -> TYPES.contains(element) && second(parent);
      case "struct" -> element.equals("member");
      case "array" -> element.equals("data") && second(parent);
      case "data" -> element.equals("value");
      default -> false; // scalars, nil, name and methodName hold text only
    };
  }

  /** Admits the first of an ordered pair (methodName before params, name before value), once. */
  private static boolean first(Frame parent, String element, String expected) {
    if (!element.equals(expected) || parent.hasFirst) {
      return false;
    }
    parent.hasFirst = true;
    return true;
  }

  /** Admits the single (or second) child of {@code parent}, once. */
  private static boolean second(Frame parent) {
    if (parent.hasSecond) {
      return false;
    }
    parent.hasSecond = true;
    return true;
  }

  @Override
  public void characters(char[] ch, int start, int length) throws SAXException {
    Frame top = stack.peek();
    if (top == null) {
      return;
    }
    if (holdsText(top.element)) {
      top.text.append(ch, start, length);
      return;
    }
    for (int i = start; i < start + length; i++) {
      if (!isXmlSpace(ch[i])) {
        throw new NotXmlRpc("unexpected text in <" + top.element + ">");
      }
    }
  }

  private static boolean holdsText(String element) {
    return switch (element) {
      case "methodCall", "params", "param", "struct", "member", "array", "data", "nil" -> false;
      default -> true; // value (untyped string, or whitespace around its type), scalars, names
    };
  }

  @Override
  public void endElement(String uri, String localName, String qName) throws SAXException {
    Frame frame = stack.pop();
    Frame parent = stack.peek();
    switch (frame.element) {
      case "methodCall" -> {
        if (!frame.hasFirst) {
          throw new NotXmlRpc("<methodCall> has no <methodName>");
        }
        List<Object> params = frame.items == null ? List.of() : frame.items;
        request = new RpcRequest(frame.name, params, 0, null);
      }
      case "methodName" -> {
        String method = frame.text.toString().strip();
        if (method.isEmpty()) {
          throw new NotXmlRpc("empty <methodName>");
        }
        parent.name = method;
      }
      case "params" -> parent.items = frame.items;
      case "param" -> {
        if (!frame.hasSecond) {
          throw new NotXmlRpc("<param> has no <value>");
        }
        parent.items.add(frame.value);
      }
      case "value" -> deliver(parent, valueOf(frame));
      case "member" -> {
        if (!frame.hasSecond) {
          throw new NotXmlRpc("<member> needs a <name> and a <value>");
        }
        if (parent.members.containsKey(frame.name)) {
          throw new NotXmlRpc("duplicate struct member \"" + frame.name + "\"");
        }
        parent.members.put(frame.name, frame.value);
      }
      case "name" -> parent.name = frame.text.toString();
      case "data" -> parent.items = frame.items;
      case "array" -> {
        if (!frame.hasSecond) {
          throw new NotXmlRpc("<array> has no <data>");
        }
        nestingDepth--;
        parent.value = frame.items;
      }
      case "struct" -> {
        nestingDepth--;
        parent.value = frame.members;
      }
      default -> parent.value = scalar(frame.element, frame.text.toString());
    }
  }

  private static Object valueOf(Frame value) throws NotXmlRpc {
    if (!value.hasSecond) {
      return value.text.toString(); // untyped <value>text</value> is a string
    }
    if (!value.text.toString().isBlank()) {
      throw new NotXmlRpc("text beside the type in <value>");
    }
    return value.value;
  }

  private static void deliver(Frame parent, Object value) {
    if (parent.element.equals("data")) {
      parent.items.add(value);
    } else {
      parent.value = value; // param or member
    }
  }

  private static Object scalar(String type, String text) throws NotXmlRpc {
    String trimmed = text.strip();
    switch (type) {
      case "string":
        return text;
      case "int":
      case "i4":
      case "i8":
        try {
          return Long.valueOf(trimmed);
        } catch (NumberFormatException e) {
          throw new NotXmlRpc("<" + type + "> is not a 64-bit integer: " + abbreviate(trimmed));
        }
      case "boolean":
        return switch (trimmed) {
          case "1", "true" -> Boolean.TRUE;
          case "0", "false" -> Boolean.FALSE;
          default -> throw new NotXmlRpc("<boolean> is not 0 or 1: " + abbreviate(trimmed));
        };
      case "double":
        if (!DOUBLE.matcher(trimmed).matches()) {
          throw new NotXmlRpc("<double> is not a decimal number: " + abbreviate(trimmed));
        }
        return Double.valueOf(trimmed);
      case "dateTime.iso8601":
        try {
          return XenApiDateTime.parse(trimmed);
        } catch (IllegalArgumentException e) {
          throw new NotXmlRpc("<dateTime.iso8601> is not a datetime: " + abbreviate(trimmed));
        }
      case "base64":
        try {
          // Python wraps base64 at 76 columns; whitespace is layout, anything else is an error.
          return Base64.getDecoder().decode(trimmed.replaceAll("[ \t\r\n]", ""));
        } catch (IllegalArgumentException e) {
          throw new NotXmlRpc("<base64> is not base64");
        }
      case "nil":
        return null;
      default:
        throw new IllegalStateException("admit() let through <" + type + ">");
    }
  }

  private static boolean isXmlSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }

  /** Keeps error messages short whatever the client sent. */
  private static String abbreviate(String text) {
    return text.length() <= 40 ? text : text.substring(0, 40) + "...";
  }
}
