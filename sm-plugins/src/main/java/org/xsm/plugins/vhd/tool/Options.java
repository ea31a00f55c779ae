package org.xsm.plugins.vhd.tool;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.VhdFooter;
import org.xsm.plugins.vhd.VhdFormatException;

/** vhd-util style options: {@code -x VALUE} and bare {@code -x} flags, per command. */
final class Options {
  /** Options taking a value, per command; all of them are required. */
  private static final Map<String, String> VALUED =
      Map.of(
          "create", "ns",
          "snapshot", "np",
          "query", "n",
          "set", "nfv",
          "check", "n",
          "coalesce", "n",
          "resize", "ns",
          "read", "nrc",
          "write", "noi");

  private static final Map<String, String> FLAGS =
      Map.of(
          "create", "r",
          "snapshot", "",
          "query", "vspfd",
          "set", "",
          "check", "p",
          "coalesce", "",
          "resize", "",
          "read", "",
          "write", "");
  final Path file;
  private final Map<String, String> values;
  private final Set<String> flags;

  private Options(Map<String, String> values, Set<String> flags) {
    this.values = values;
    this.flags = flags;
    this.file = Path.of(values.get("n"));
  }

  static Options parse(String cmd, String[] args) throws UsageException {
    String valued = VALUED.get(cmd);
    if (valued == null) {
      throw new UsageException("unknown command '" + cmd + "'");
    }
    String flagChars = FLAGS.get(cmd);
    Map<String, String> values = new HashMap<>();
    Set<String> flags = new HashSet<>();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (a.length() != 2 || a.charAt(0) != '-') {
        throw new UsageException("unexpected argument '" + a + "'");
      }
      String k = a.substring(1);
      if (valued.contains(k)) {
        if (i + 1 >= args.length) {
          throw new UsageException("option " + a + " needs a value");
        }
        values.put(k, args[++i]);
      } else if (flagChars.contains(k)) {
        flags.add(k);
      } else {
        throw new UsageException("unknown option " + a);
      }
    }
    for (char c : valued.toCharArray()) {
      if (!values.containsKey(String.valueOf(c))) {
        throw new UsageException("missing option -" + c);
      }
    }
    return new Options(values, flags);
  }

  boolean flag(String k) {
    return flags.contains(k);
  }

  String arg(String k) {
    return values.get(k);
  }

  Path path(String k) {
    return Path.of(values.get(k));
  }

  long longArg(String k) throws UsageException {
    try {
      return Long.parseLong(values.get(k));
    } catch (NumberFormatException e) {
      throw new UsageException("-" + k + " needs a number, got '" + values.get(k) + "'");
    }
  }

  /** A positive size in MiB, as bytes; refuses sizes whose byte count would overflow. */
  long mebibytes(String k) throws UsageException, VhdFormatException {
    long mb = longArg(k);
    if (mb <= 0) {
      throw new UsageException("size must be a positive number of MB, got " + mb);
    }
    long max = VhdFooter.MAX_SIZE_BYTES / (1024 * 1024);
    if (mb > max) {
      throw new VhdFormatException("size " + mb + " MB exceeds the VHD maximum of " + max + " MB");
    }
    return mb * 1024 * 1024;
  }

  LocalImageStore store(Path f) throws IOException {
    return VhdTool.storeOf(f);
  }

  String name(Path f) {
    return f.getFileName().toString();
  }
}
