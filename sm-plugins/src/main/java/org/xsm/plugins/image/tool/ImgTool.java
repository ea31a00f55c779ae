package org.xsm.plugins.image.tool;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.image.ImageInfo;
import org.xsm.plugins.store.DiskChain;
import org.xsm.plugins.store.LocalImageStore;

/**
 * {@code xsm img}: the image operations of a VDI tree for either format (qcow2 or VHD, detected
 * from the file): info, check, create, snapshot, read, coalesce. Bad input exits non-zero (1: the
 * operation failed, 2: bad usage) with a one-line error on stderr and changes nothing.
 */
public final class ImgTool {
  static final int EXIT_ERROR = 1;
  static final int EXIT_USAGE = 2;

  static final String USAGE =
      String.join(
          "\n",
          "usage: xsm img <command> [options]",
          "  info     -n FILE                       format, sizes, parent, hidden flag, chain depth",
          "  check    -n FILE [-p]                  validate the file (-p: and its parents)",
          "  create   -n FILE -s MB [-f vhd|qcow2]  new empty disk (default: the name's extension, else",
          "                                         qcow2 above 2040 GiB and VHD below)",
          "  snapshot -n CHILD -p PARENT            new image over PARENT, in PARENT's format",
          "  read     -n FILE -r SECTOR -c COUNT    raw sectors through the chain to stdout",
          "  coalesce -n FILE                       merge FILE's data into its parent");

  /** Options taking a value / bare flags, per command; valued ones in VALUED are required. */
  private static final Map<String, String> VALUED =
      Map.of(
          "info",
          "n",
          "check",
          "n",
          "create",
          "ns",
          "snapshot",
          "np",
          "read",
          "nrc",
          "coalesce",
          "n");

  private static final Map<String, String> OPTIONAL_VALUED = Map.of("create", "f");
  private static final Map<String, String> FLAGS = Map.of("check", "p");

  private final PrintStream out;
  private final PrintStream err;

  ImgTool(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    int rc = new ImgTool(System.out, System.err).run(args);
    System.out.flush();
    System.exit(rc);
  }

  private static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String m) {
      super(m);
    }
  }

  int run(String[] args) {
    if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
      (args.length == 0 ? err : out).println(USAGE);
      return args.length == 0 ? EXIT_USAGE : 0;
    }
    String cmd = args[0];
    Map<String, String> o;
    try {
      o = parse(cmd, args);
    } catch (UsageException e) {
      err.println("img " + cmd + ": " + e.getMessage() + " (see xsm img --help)");
      return EXIT_USAGE;
    }
    try {
      return switch (cmd) {
        case "info" -> info(o);
        case "check" -> check(o);
        case "create" -> create(o);
        case "snapshot" -> snapshot(o);
        case "read" -> read(o);
        case "coalesce" -> coalesce(o);
        default -> throw new IllegalStateException(cmd);
      };
    } catch (UsageException e) {
      err.println("img " + cmd + ": " + e.getMessage());
      return EXIT_USAGE;
    } catch (IOException | RuntimeException e) {
      String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      if (e instanceof java.nio.file.NoSuchFileException) {
        m = "no such file: " + m;
      } else if (e instanceof java.nio.file.FileAlreadyExistsException) {
        m = "file exists: " + m;
      }
      err.println("img " + cmd + ": " + m);
      return EXIT_ERROR;
    }
  }

  private static Map<String, String> parse(String cmd, String[] args) throws UsageException {
    String valued = VALUED.get(cmd);
    if (valued == null) {
      throw new UsageException("unknown command '" + cmd + "'");
    }
    String optional = OPTIONAL_VALUED.getOrDefault(cmd, "");
    String flags = FLAGS.getOrDefault(cmd, "");
    Map<String, String> o = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      String k = a.length() == 2 && a.charAt(0) == '-' ? a.substring(1) : null;
      if (k != null && (valued.contains(k) || optional.contains(k))) {
        if (i + 1 >= args.length) {
          throw new UsageException("option " + a + " needs a value");
        }
        o.put(k, args[++i]);
      } else if (k != null && flags.contains(k)) {
        o.put(k, "");
      } else {
        throw new UsageException(
            k == null ? "unexpected argument '" + a + "'" : "unknown option " + a);
      }
    }
    for (char c : valued.toCharArray()) {
      if (!o.containsKey(String.valueOf(c))) {
        throw new UsageException("missing option -" + c);
      }
    }
    return o;
  }

  private static long number(Map<String, String> o, String k) throws UsageException {
    try {
      long v = Long.parseLong(o.get(k));
      if (v < 0) {
        throw new UsageException("-" + k + " must not be negative");
      }
      return v;
    } catch (NumberFormatException e) {
      throw new UsageException("-" + k + " needs a number, got '" + o.get(k) + "'");
    }
  }

  private static Path file(Map<String, String> o, String k) {
    return Path.of(o.get(k)).toAbsolutePath();
  }

  private static LocalImageStore store(Path f) throws IOException {
    return LocalImageStore.open(f.getParent());
  }

  private static String name(Path f) {
    return f.getFileName().toString();
  }

  private int info(Map<String, String> o) throws IOException {
    Path f = file(o, "n");
    LocalImageStore s = store(f);
    ImageInfo i = ImageFormat.detect(s, name(f)).info(s, name(f));
    out.println("format: " + i.format().wireName());
    out.println("virtual size: " + i.virtualSizeBytes() + " bytes");
    out.println("physical size: " + i.physicalSizeBytes() + " bytes");
    out.println(
        "parent: " + i.parent().map(p -> f.getParent().resolve(p).toString()).orElse("none"));
    out.println("hidden: " + (i.hidden() ? 1 : 0));
    out.println("chain depth: " + i.chainDepth());
    return 0;
  }

  private int check(Map<String, String> o) throws IOException {
    Path f = file(o, "n");
    LocalImageStore s = store(f);
    List<String> problems = ImageFormat.detect(s, name(f)).check(s, name(f), o.containsKey("p"));
    if (problems.isEmpty()) {
      out.println(o.get("n") + " is valid");
      return 0;
    }
    problems.forEach(err::println);
    return EXIT_ERROR;
  }

  private int create(Map<String, String> o) throws IOException, UsageException {
    long mb = number(o, "s");
    if (mb == 0 || mb > Long.MAX_VALUE >> 20) {
      throw new UsageException("size must be a positive number of MB, got " + o.get("s"));
    }
    long bytes = mb << 20;
    Path f = file(o, "n");
    ImageFormat fmt;
    try {
      fmt = ImageFormat.choose(Optional.ofNullable(o.get("f")).or(() -> byExtension(f)), bytes);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    if (bytes > fmt.maxSizeBytes()) {
      throw new IOException(
          "size "
              + mb
              + " MB exceeds the "
              + fmt.wireName()
              + " maximum of "
              + (fmt.maxSizeBytes() >> 20)
              + " MB");
    }
    fmt.create(store(f), name(f), bytes);
    return 0;
  }

  /** The format a file name's extension names, if any. */
  private static Optional<String> byExtension(Path f) {
    String n = name(f);
    int dot = n.lastIndexOf('.');
    String ext = dot < 0 ? "" : n.substring(dot + 1);
    return ext.equals("qcow2") || ext.equals("vhd") ? Optional.of(ext) : Optional.empty();
  }

  private int snapshot(Map<String, String> o) throws IOException, UsageException {
    Path child = file(o, "n");
    Path parent = file(o, "p");
    if (!child.getParent().equals(parent.getParent())) {
      throw new UsageException("child and parent must be in the same directory");
    }
    LocalImageStore s = store(parent);
    ImageFormat.detect(s, name(parent)).snapshot(s, name(child), name(parent));
    return 0;
  }

  private int read(Map<String, String> o) throws IOException, UsageException {
    long sector = number(o, "r");
    long count = number(o, "c");
    Path f = file(o, "n");
    LocalImageStore s = store(f);
    try (DiskChain chain = ImageFormat.detect(s, name(f)).open(s, name(f), false)) {
      long sectors = chain.virtualSizeBytes() / 512;
      if (sector > sectors - count) {
        throw new UsageException(
            "sectors " + sector + "+" + count + " lie past the end (" + sectors + " sectors)");
      }
      ByteBuffer buf = ByteBuffer.allocate(1 << 20);
      for (long pos = sector * 512, end = (sector + count) * 512; pos < end; pos += buf.limit()) {
        buf.clear().limit((int) Math.min(buf.capacity(), end - pos));
        chain.read(buf, pos);
        out.write(buf.array(), 0, buf.limit());
      }
      out.flush();
    }
    return 0;
  }

  private int coalesce(Map<String, String> o) throws IOException {
    Path f = file(o, "n");
    LocalImageStore s = store(f);
    ImageFormat.detect(s, name(f)).coalesce(s, name(f));
    return 0;
  }
}
