package org.xsm.bench.fuzz;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Structure-aware mutation of an input: byte flips, interesting integers written over fields (0,
 * -1, limits, powers of two), removal, duplication and insertion of ranges, splicing with another
 * input, and the target's own words (tags, keywords, magic numbers) inserted or repeated, which is
 * how deep nesting and huge counts arise. Seeded: a run is reproducible.
 */
final class Mutator {
  private static final long[] INTERESTING = {
    0,
    1,
    -1,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0x8000,
    0xffff,
    0x7fffffffL,
    0x80000000L,
    0xffffffffL,
    Long.MAX_VALUE,
    Long.MIN_VALUE,
    512,
    4096,
    1 << 20,
    1 << 24
  };

  private final Random rnd;
  private final List<byte[]> dictionary;

  Mutator(long seed, List<byte[]> dictionary) {
    this.rnd = new Random(seed);
    this.dictionary = dictionary;
  }

  byte[] mutate(byte[] in, List<byte[]> corpus) {
    byte[] b = in.clone();
    int rounds = 1 + rnd.nextInt(4);
    for (int i = 0; i < rounds; i++) {
      b = once(b, corpus);
      if (b.length > 1 << 20) {
        b = Arrays.copyOf(b, 1 << 20);
      }
    }
    return b;
  }

  private byte[] once(byte[] b, List<byte[]> corpus) {
    int op = rnd.nextInt(9);
    if (b.length == 0 && op < 6) {
      op = 6;
    }
    switch (op) {
      case 0 -> {
        int p = rnd.nextInt(b.length);
        b[p] ^= (byte) (1 << rnd.nextInt(8));
        return b;
      }
      case 1 -> {
        b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
        return b;
      }
      case 2 -> {
        long v = INTERESTING[rnd.nextInt(INTERESTING.length)];
        int width = new int[] {1, 2, 4, 8}[rnd.nextInt(4)];
        int p = rnd.nextInt(b.length);
        for (int k = 0; k < width && p + k < b.length; k++) {
          b[p + k] = (byte) (v >>> (8 * (width - 1 - k)));
        }
        return b;
      }
      case 3 -> {
        int from = rnd.nextInt(b.length);
        int len = 1 + rnd.nextInt(Math.min(64, b.length - from));
        return concat(Arrays.copyOf(b, from), Arrays.copyOfRange(b, from + len, b.length));
      }
      case 4 -> {
        int from = rnd.nextInt(b.length);
        int len = 1 + rnd.nextInt(Math.min(256, b.length - from));
        byte[] piece = Arrays.copyOfRange(b, from, from + len);
        int at = rnd.nextInt(b.length + 1);
        return insert(b, at, piece);
      }
      case 5 -> {
        return Arrays.copyOf(b, rnd.nextInt(b.length + 1)); // truncation
      }
      case 6, 7 -> {
        byte[] word =
            dictionary.isEmpty() ? new byte[] {0} : dictionary.get(rnd.nextInt(dictionary.size()));
        int times = rnd.nextInt(10) == 0 ? 1 + rnd.nextInt(200) : 1;
        ByteArrayOutputStream w = new ByteArrayOutputStream();
        for (int k = 0; k < times; k++) {
          w.writeBytes(word);
        }
        return insert(b, b.length == 0 ? 0 : rnd.nextInt(b.length + 1), w.toByteArray());
      }
      default -> {
        byte[] other = corpus.get(rnd.nextInt(corpus.size()));
        int cut = b.length == 0 ? 0 : rnd.nextInt(b.length + 1);
        int from = other.length == 0 ? 0 : rnd.nextInt(other.length + 1);
        return concat(Arrays.copyOf(b, cut), Arrays.copyOfRange(other, from, other.length));
      }
    }
  }

  private static byte[] insert(byte[] b, int at, byte[] piece) {
    return concat(concat(Arrays.copyOf(b, at), piece), Arrays.copyOfRange(b, at, b.length));
  }

  private static byte[] concat(byte[] a, byte[] c) {
    byte[] out = Arrays.copyOf(a, a.length + c.length);
    System.arraycopy(c, 0, out, a.length, c.length);
    return out;
  }
}
