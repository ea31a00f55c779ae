package org.xsm.bench.fuzz;

import java.util.List;

/**
 * One parser under fuzzing: valid inputs to start from, words its format is made of (for
 * structure-aware mutation), the call, and which failures are the parser's proper refusals (any
 * other throwable is a crash).
 */
public interface FuzzTarget {
  String name();

  List<byte[]> seeds() throws Exception;

  /** Tokens the mutator splices in (tags, keywords, magic numbers). */
  List<byte[]> dictionary();

  /** Parses one input; returns a short description of what it decoded (for the outcome). */
  String run(byte[] input) throws Throwable;

  /** The parser's classes (names with slashes, as prefixes) its coverage figures are over. */
  List<String> scope();

  /** Whether {@code t} is a proper refusal of bad input. */
  boolean refusal(Throwable t);
}
