package org.xsm.server.rpc;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Spec deviation: joins character references to the two UTF-16 halves of one character.
 *
 * <p>Apache XML-RPC 3.1.3, the Java SDK's transport, writes a character outside the Basic
 * Multilingual Plane as a reference to each of its surrogates ({@code &#55357;&#56832;} for
 * U+1F600). XML allows no reference to a surrogate, so a conforming parser rejects the whole call;
 * the pair is rewritten to the one reference it stands for ({@code &#128512;}) before parsing.
 *
 * <p>References are ASCII, so the rewrite is exact in UTF-8 and every other ASCII-based encoding
 * (in UTF-16 it finds nothing). The same text inside a CDATA section or a comment, where it is not
 * a reference, is rewritten too; no client sends that. A lone surrogate reference is left for the
 * parser to reject.
 */
final class SurrogateReferences {
  private SurrogateReferences() {}

  private record Reference(int value, int end) {}

  /** {@code body} with surrogate-pair references joined; {@code body} itself when it has none. */
  static byte[] join(byte[] body) {
    ByteArrayOutputStream joined = null;
    int copied = 0; // body[0, copied) is in joined
    int i = 0;
    while (i < body.length) {
      Optional<Reference> high = referenceAt(body, i).filter(r -> isHigh(r.value()));
      Optional<Reference> low =
          high.flatMap(h -> referenceAt(body, h.end())).filter(r -> isLow(r.value()));
      if (low.isEmpty()) {
        i++;
        continue;
      }
      if (joined == null) {
        joined = new ByteArrayOutputStream(body.length);
      }
      joined.write(body, copied, i - copied);
      int codePoint = Character.toCodePoint((char) high.get().value(), (char) low.get().value());
      joined.writeBytes(("&#" + codePoint + ";").getBytes(StandardCharsets.US_ASCII));
      i = copied = low.get().end();
    }
    if (joined == null) {
      return body;
    }
    joined.write(body, copied, body.length - copied);
    return joined.toByteArray();
  }

  /** The reference {@code &#ddd;} or {@code &#xhh;} starting at {@code at}, if there is one. */
  private static Optional<Reference> referenceAt(byte[] body, int at) {
    if (at + 1 >= body.length || body[at] != '&' || body[at + 1] != '#') {
      return Optional.empty();
    }
    int i = at + 2;
    int radix = 10;
    if (i < body.length && body[i] == 'x') {
      radix = 16;
      i++;
    }
    int start = i;
    int value = 0;
    // Six digits reach past any surrogate in either radix without risking overflow.
    while (i < body.length && i - start < 6 && Character.digit(body[i], radix) >= 0) {
      value = value * radix + Character.digit(body[i], radix);
      i++;
    }
    if (i == start || i >= body.length || body[i] != ';') {
      return Optional.empty();
    }
    return Optional.of(new Reference(value, i + 1));
  }

  private static boolean isHigh(int value) {
    return value >= Character.MIN_HIGH_SURROGATE && value <= Character.MAX_HIGH_SURROGATE;
  }

  private static boolean isLow(int value) {
    return value >= Character.MIN_LOW_SURROGATE && value <= Character.MAX_LOW_SURROGATE;
  }
}
