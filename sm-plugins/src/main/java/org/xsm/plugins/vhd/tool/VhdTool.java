package org.xsm.plugins.vhd.tool;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.Vhd;
import org.xsm.plugins.vhd.VhdChain;

/**
 * {@code xsm vhd}: the subset of blktap's {@code vhd-util} that xapi's storage manager uses, with
 * the same options and output formats. Bad input exits non-zero with a one-line error on stderr and
 * changes nothing.
 */
public final class VhdTool {
  static final int EXIT_ERROR = 1;
  static final int EXIT_USAGE = 2;
  private static final long MIB = 1024 * 1024;

  private final PrintStream out;
  private final PrintStream err;
  private final InputStream stdin;

  VhdTool(PrintStream out, PrintStream err, InputStream stdin) {
    this.out = out;
    this.err = err;
    this.stdin = stdin;
  }

  public static void main(String[] args) {
    int rc = new VhdTool(System.out, System.err, System.in).run(args);
    System.out.flush();
    System.exit(rc);
  }

  static final String USAGE =
      String.join(
          "\n",
          "usage: xsm vhd <command> [options]",
          "  create   -n FILE -s MB [-r]          new dynamic disk (-r: fixed)",
          "  snapshot -n CHILD -p PARENT          new differencing disk over PARENT",
          "  query    -n FILE [-v] [-s] [-p] [-f] [-d]",
          "           -v virtual size (MB)  -s physical size (bytes)  -p parent",
          "           -f hidden flag  -d chain depth",
          "  set      -n FILE -f hidden -v 0|1",
          "  check    -n FILE [-p]                validate the file (-p: and its parents)",
          "  coalesce -n FILE                     merge FILE's data into its parent",
          "  resize   -n FILE -s MB               grow the virtual size",
          "  read     -n FILE -r SECTOR -c COUNT  raw sectors through the chain to stdout",
          "  write    -n FILE -o BYTE_OFFSET -i INPUT_FILE");

  int run(String[] args) {
    if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
      (args.length == 0 ? err : out).println(USAGE);
      return args.length == 0 ? EXIT_USAGE : 0;
    }
    String cmd = args[0];
    Options o;
    try {
      o = Options.parse(cmd, args);
    } catch (UsageException e) {
      err.println("vhd " + cmd + ": " + e.getMessage() + " (see xsm vhd --help)");
      return EXIT_USAGE;
    }
    try {
      switch (cmd) {
        case "create" -> create(o);
        case "snapshot" -> snapshot(o);
        case "query" -> query(o);
        case "set" -> set(o);
        case "check" -> {
          return check(o);
        }
        case "coalesce" -> Vhd.coalesce(o.store(o.file), o.name(o.file));
        case "resize" -> Vhd.resize(o.store(o.file), o.name(o.file), o.mebibytes("s"));
        case "read" -> read(o);
        case "write" -> write(o);
        default -> throw new IllegalStateException(cmd);
      }
      return 0;
    } catch (UsageException e) {
      err.println("vhd " + cmd + ": " + e.getMessage());
      return EXIT_USAGE;
    } catch (IOException | RuntimeException e) {
      err.println("vhd " + cmd + ": " + describe(e));
      return EXIT_ERROR;
    }
  }

  private static String describe(Exception e) {
    String m = e.getMessage();
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file: " + m;
    }
    if (e instanceof java.nio.file.FileAlreadyExistsException) {
      return "file exists: " + m;
    }
    return m == null ? e.getClass().getSimpleName() : m;
  }

  private void create(Options o) throws IOException, UsageException {
    Vhd.create(o.store(o.file), o.name(o.file), o.mebibytes("s"), o.flag("r"));
  }

  private void snapshot(Options o) throws IOException, UsageException {
    Path child = o.file;
    Path parent = o.path("p");
    if (!child.toAbsolutePath().getParent().equals(parent.toAbsolutePath().getParent())) {
      throw new UsageException("child and parent must be in the same directory");
    }
    Vhd.snapshot(o.store(child), o.name(child), o.name(parent));
  }

  private void query(Options o) throws IOException, UsageException {
    if (!(o.flag("v") || o.flag("s") || o.flag("p") || o.flag("f") || o.flag("d"))) {
      throw new UsageException("query needs at least one of -v -s -p -f -d");
    }
    Vhd.Info info = Vhd.query(o.store(o.file), o.name(o.file));
    if (o.flag("v")) {
      out.println(info.virtualSizeBytes() / MIB);
    }
    if (o.flag("s")) {
      out.println(info.physicalSizeBytes());
    }
    if (o.flag("p")) {
      if (info.parentName() == null) {
        out.println(o.file + " has no parent");
      } else {
        out.println(o.file.toAbsolutePath().getParent().resolve(info.parentName()));
      }
    }
    if (o.flag("f")) {
      out.println("hidden: " + (info.hidden() ? 1 : 0));
    }
    if (o.flag("d")) {
      out.println("chain depth: " + info.chainDepth());
    }
  }

  private void set(Options o) throws IOException, UsageException {
    String field = o.arg("f");
    if (!field.equals("hidden")) {
      throw new UsageException("only the 'hidden' field can be set, not '" + field + "'");
    }
    String v = o.arg("v");
    if (!v.equals("0") && !v.equals("1")) {
      throw new UsageException("hidden must be 0 or 1, not '" + v + "'");
    }
    Vhd.setHidden(o.store(o.file), o.name(o.file), v.equals("1"));
  }

  private int check(Options o) throws IOException, UsageException {
    List<String> problems = Vhd.check(o.store(o.file), o.name(o.file), o.flag("p"));
    if (problems.isEmpty()) {
      out.println(o.file + " is valid");
      return 0;
    }
    for (String p : problems) {
      err.println(p);
    }
    return EXIT_ERROR;
  }

  private void read(Options o) throws IOException, UsageException {
    long sector = o.longArg("r");
    long count = o.longArg("c");
    if (sector < 0 || count < 0) {
      throw new UsageException("sector and count must not be negative");
    }
    try (VhdChain chain = VhdChain.open(o.store(o.file), o.name(o.file), false)) {
      long size = chain.virtualSizeBytes();
      if (sector > size / 512 - count) {
        throw new UsageException(
            "sectors " + sector + "+" + count + " lie past the end (" + size / 512 + " sectors)");
      }
      ByteBuffer buf = ByteBuffer.allocate(1024 * 1024);
      long pos = sector * 512;
      long end = (sector + count) * 512;
      OutputStream os = out;
      while (pos < end) {
        buf.clear().limit((int) Math.min(buf.capacity(), end - pos));
        chain.read(buf, pos);
        os.write(buf.array(), 0, buf.limit());
        pos += buf.limit();
      }
      os.flush();
    }
  }

  private void write(Options o) throws IOException, UsageException {
    long offset = o.longArg("o");
    String input = o.arg("i");
    byte[] data = input.equals("-") ? stdin.readAllBytes() : Files.readAllBytes(Path.of(input));
    try (VhdChain chain = VhdChain.open(o.store(o.file), o.name(o.file), true)) {
      if (offset < 0 || offset > chain.virtualSizeBytes() - data.length) {
        throw new UsageException(
            data.length
                + " bytes at offset "
                + offset
                + " do not fit the disk of "
                + chain.virtualSizeBytes()
                + " bytes");
      }
      chain.write(ByteBuffer.wrap(data), offset);
      chain.flush();
    }
  }

  static LocalImageStore storeOf(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    return LocalImageStore.open(dir);
  }
}
