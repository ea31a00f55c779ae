package org.xsm.server.message;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * xapi's filter language of {@code get_all_records_where} (its {@code Db_filter}): {@code true},
 * {@code false}, comparisons {@code field "name_label" = "x"} (either side a field, written {@code
 * field "f"} as xapi does or as a bare name, or a quoted literal; fields of the wire record are
 * compared as text; {@code <>} too), {@code not}, {@code and}, {@code or}, parentheses. A malformed
 * expression is {@code INVALID_VALUE [expr, why]}.
 */
final class WhereExpression {
  private final List<String> tokens;
  private final String text;
  private int pos;

  private WhereExpression(String text) throws XenApiException {
    this.text = text;
    this.tokens = lex(text);
  }

  /** The records' test for {@code text}. */
  static Predicate<Map<String, Object>> parse(String text) throws XenApiException {
    WhereExpression w = new WhereExpression(text);
    Predicate<Map<String, Object>> p = w.or();
    if (w.pos != w.tokens.size()) {
      throw w.invalid("unexpected " + w.tokens.get(w.pos));
    }
    return p;
  }

  private Predicate<Map<String, Object>> or() throws XenApiException {
    Predicate<Map<String, Object>> p = and();
    while (accept("or")) {
      p = p.or(and());
    }
    return p;
  }

  private Predicate<Map<String, Object>> and() throws XenApiException {
    Predicate<Map<String, Object>> p = unary();
    while (accept("and")) {
      p = p.and(unary());
    }
    return p;
  }

  private Predicate<Map<String, Object>> unary() throws XenApiException {
    if (accept("not")) {
      return unary().negate();
    }
    if (accept("(")) {
      Predicate<Map<String, Object>> p = or();
      if (!accept(")")) {
        throw invalid("missing )");
      }
      return p;
    }
    if (accept("true")) {
      return r -> true;
    }
    if (accept("false")) {
      return r -> false;
    }
    Operand left = operand();
    String op = take("= or <>");
    Operand right = operand();
    Predicate<Map<String, Object>> eq = r -> left.value(r).equals(right.value(r));
    return switch (op) {
      case "=" -> eq;
      case "<>" -> eq.negate();
      default -> throw invalid("unknown operator " + op);
    };
  }

  /** One side of a comparison: a field of the record or a literal. */
  @FunctionalInterface
  private interface Operand {
    String value(Map<String, Object> record);
  }

  private Operand operand() throws XenApiException {
    if (pos + 1 < tokens.size()
        && tokens.get(pos).equals("field")
        && tokens.get(pos + 1).startsWith("\"")) {
      pos++;
      return field(unquote(take("a field name")));
    }
    String t = take("a field or a quoted value");
    if (t.startsWith("\"")) {
      String v = unquote(t);
      return r -> v;
    }
    if (t.length() == 1 && "()=".contains(t) || t.equals("<>")) {
      throw invalid("unexpected " + t);
    }
    return field(t);
  }

  private static Operand field(String name) {
    return r -> r.get(name) == null ? "" : String.valueOf(r.get(name));
  }

  private static String unquote(String t) {
    return t.substring(1, t.length() - 1);
  }

  private boolean accept(String t) {
    if (pos < tokens.size() && tokens.get(pos).equalsIgnoreCase(t)) {
      pos++;
      return true;
    }
    return false;
  }

  private String take(String what) throws XenApiException {
    if (pos >= tokens.size()) {
      throw invalid("expected " + what + " at the end");
    }
    return tokens.get(pos++);
  }

  private XenApiException invalid(String why) {
    return new XenApiException(XenApiError.INVALID_VALUE, text, why);
  }

  private static List<String> lex(String s) throws XenApiException {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '(' || c == ')' || c == '=') {
        out.add(String.valueOf(c));
        i++;
      } else if (c == '<' && i + 1 < s.length() && s.charAt(i + 1) == '>') {
        out.add("<>");
        i += 2;
      } else if (c == '"') {
        int end = s.indexOf('"', i + 1);
        if (end < 0) {
          throw new XenApiException(XenApiError.INVALID_VALUE, s, "unterminated string");
        }
        out.add(s.substring(i, end + 1));
        i = end + 1;
      } else {
        int start = i;
        while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) {
          i++;
        }
        if (i == start) {
          throw new XenApiException(XenApiError.INVALID_VALUE, s, "unexpected " + c);
        }
        out.add(s.substring(start, i));
      }
    }
    return out;
  }
}
