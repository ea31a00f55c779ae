package org.xsm.bench.fuzz;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code ./bench/run fuzz [seconds-per-target] [target...]}: coverage-guided, structure-aware,
 * seeded fuzzing of xsm's parsers of untrusted input (XML-RPC, JSON-RPC, the NBD server, VHD footer
 * and header, iSCSI PDUs, NFS replies). Jazzer is not available from this machine's Maven mirror;
 * instead xsm's classes run instrumented by JaCoCo's core ({@link Coverage}), and an input that
 * reaches a probe (block or branch) no earlier input reached joins the corpus and is mutated
 * further (distinct outcomes, a new refusal message or decoded shape, are counted, not kept). A
 * crash is any throwable other than the parser's refusal, or a parse over 5 s; its input is written
 * to {@code bench/target/fuzz/<target>/} to become a regression test. Prints, per target:
 * executions, seconds, distinct outcomes, corpus size, crashes, and line and branch coverage of its
 * parser classes.
 */
public final class Fuzz {
  private Fuzz() {}

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    Set<String> only = new HashSet<>(List.of(args).subList(Math.min(1, args.length), args.length));
    long seed = Long.getLong("fuzz.seed", 20261207L);
    Path out = Path.of("bench", "target", "fuzz");
    System.out.printf("fuzzing %d s per target, seed %d%n", seconds, seed);
    System.out.printf(
        "%-12s %10s %8s %8s %9s %7s %8s  %-18s %s%n",
        "target",
        "execs",
        "seconds",
        "exec/s",
        "outcomes",
        "corpus",
        "crashes",
        "lines",
        "branches");
    Coverage coverage = new Coverage();
    var all =
        Class.forName("org.xsm.bench.fuzz.Targets", true, coverage.loader())
            .getDeclaredMethod("all");
    all.setAccessible(true);
    @SuppressWarnings("unchecked")
    List<FuzzTarget> targets = (List<FuzzTarget>) all.invoke(null);
    ExecutorService runner =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "fuzz-runner");
              t.setDaemon(true);
              return t;
            });
    int totalCrashes = 0;
    for (FuzzTarget t : targets) {
      if (!only.isEmpty() && !only.contains(t.name())) {
        continue;
      }
      Result r = fuzz(t, seconds, seed, runner, out.resolve(t.name()), coverage);
      totalCrashes += r.crashes;
      Coverage.Figures f = coverage.report(t.scope());
      System.out.printf(
          "%-12s %10d %8.1f %8.0f %9d %7d %8d  %-18s %s%n",
          t.name(),
          r.execs,
          r.seconds,
          r.execs / r.seconds,
          r.outcomes,
          r.corpus,
          r.crashes,
          f.lineText(),
          f.branchText());
    }
    System.exit(totalCrashes == 0 ? 0 : 1);
  }

  record Result(long execs, double seconds, int outcomes, int corpus, int crashes) {}

  static Result fuzz(
      FuzzTarget t,
      int seconds,
      long seed,
      ExecutorService runner,
      Path crashDir,
      Coverage coverage)
      throws Exception {
    coverage.startTarget();
    List<byte[]> corpus = new ArrayList<>(t.seeds());
    Map<String, Boolean> outcomes = new LinkedHashMap<>();
    Set<String> crashSignatures = new HashSet<>();
    Mutator m = new Mutator(seed ^ t.name().hashCode(), t.dictionary());
    java.util.Random pick = new java.util.Random(seed);
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
    long execs = 0;
    for (byte[] s : List.copyOf(corpus)) {
      outcomes.put(outcome(t, s, runner, crashDir, crashSignatures), true);
      coverage.newProbes();
    }
    while (System.nanoTime() < deadline) {
      byte[] in = m.mutate(corpus.get(pick.nextInt(corpus.size())), corpus);
      String o = outcome(t, in, runner, crashDir, crashSignatures);
      execs++;
      // Only new code earns a place: distinct outcomes (messages vary with the input) would fill
      // the corpus with inputs that add nothing.
      boolean newCode = coverage.newProbes();
      outcomes.putIfAbsent(o, true);
      if (newCode && corpus.size() < 5000) {
        corpus.add(in);
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    return new Result(execs, secs, outcomes.size(), corpus.size(), crashSignatures.size());
  }

  /** What the parser did with {@code in}, as a short signature; crashes are saved. */
  private static String outcome(
      FuzzTarget t, byte[] in, ExecutorService runner, Path crashDir, Set<String> crashes)
      throws Exception {
    Future<String> f =
        runner.submit(
            () -> {
              try {
                return "ok:" + t.run(in);
              } catch (Throwable e) {
                if (t.refusal(e)) {
                  return "refused:"
                      + e.getClass().getSimpleName()
                      + ":"
                      + normalise(e.getMessage());
                }
                throw new Crash(e);
              }
            });
    try {
      return f.get(5, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      return crash(t, in, crashDir, crashes, "hang over 5 s", null);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable c = e.getCause() instanceof Crash x ? x.getCause() : e.getCause();
      return crash(t, in, crashDir, crashes, c.toString(), c);
    }
  }

  private static String crash(
      FuzzTarget t, byte[] in, Path dir, Set<String> crashes, String what, Throwable c)
      throws Exception {
    String top =
        c == null || c.getStackTrace().length == 0
            ? what
            : c.getClass().getName() + "@" + c.getStackTrace()[0];
    if (crashes.add(top)) {
      Files.createDirectories(dir);
      Path file = dir.resolve("crash-" + crashes.size() + ".bin");
      Files.write(file, in);
      System.out.printf("  %s crash: %s (input %s)%n", t.name(), what, file);
      if (c != null) {
        c.printStackTrace(System.out);
      }
    }
    return "crash:" + top;
  }

  private static String normalise(String msg) {
    if (msg == null) {
      return "";
    }
    String s = msg.replaceAll("[0-9]+", "#").replaceAll("OpaqueRef:[^ ]*", "ref");
    return s.length() > 60 ? s.substring(0, 60) : s;
  }

  private static final class Crash extends RuntimeException {
    Crash(Throwable cause) {
      super(cause);
    }
  }
}
