package org.xsm.bench.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.jacoco.core.analysis.Analyzer;
import org.jacoco.core.analysis.CoverageBuilder;
import org.jacoco.core.analysis.ICounter;
import org.jacoco.core.data.ExecutionData;
import org.jacoco.core.data.ExecutionDataStore;
import org.jacoco.core.instr.Instrumenter;
import org.jacoco.core.runtime.LoggerRuntime;
import org.jacoco.core.runtime.RuntimeData;

/**
 * Code coverage for the fuzzer, in-process with JaCoCo's core: xsm's classes are loaded through
 * {@link Loader}, which instruments them (the fuzzer's own classes are loaded but not instrumented;
 * the shared ones come from the parent). After each input {@link #newProbes()} says whether it
 * reached code (a JaCoCo probe: a branch or block) no earlier input of the target reached, which is
 * what guides the fuzzer, and {@link #report} gives line and branch coverage of the target's parser
 * classes from the probes reached over the whole run.
 */
final class Coverage {
  /** Loaded by the parent and shared by both sides. */
  private static final List<String> SHARED =
      List.of(
          "org.xsm.bench.fuzz.FuzzTarget",
          "org.xsm.bench.fuzz.Fuzz",
          "org.xsm.bench.fuzz.Coverage");

  private final RuntimeData data = new RuntimeData();
  private final Instrumenter instrumenter;
  private final Loader loader;

  /** Probes reached by the current target so far, per class id (what the run has covered). */
  private final Map<Long, boolean[]> reached = new HashMap<>();

  private final Map<Long, String> names = new HashMap<>();

  Coverage() throws Exception {
    LoggerRuntime runtime = new LoggerRuntime();
    instrumenter = new Instrumenter(runtime);
    runtime.startup(data);
    loader = new Loader(Coverage.class.getClassLoader());
  }

  ClassLoader loader() {
    return loader;
  }

  /** A new target starts: nothing reached yet, and what earlier targets ran is forgotten. */
  void startTarget() {
    reached.clear();
    data.reset();
  }

  /** Whether the input just run reached a probe no earlier input of this target reached. */
  boolean newProbes() {
    boolean[] fresh = {false};
    data.collect(
        e -> {
          boolean[] p = e.getProbes();
          boolean[] seen = reached.computeIfAbsent(e.getId(), k -> new boolean[p.length]);
          names.putIfAbsent(e.getId(), e.getName());
          for (int i = 0; i < p.length && i < seen.length; i++) {
            if (p[i] && !seen[i]) {
              seen[i] = true;
              fresh[0] = true;
            }
          }
        },
        s -> {},
        true);
    return fresh[0];
  }

  /** Lines and branches covered, and their totals, over every class whose name starts so. */
  record Figures(int lines, int lineTotal, int branches, int branchTotal) {
    String lineText() {
      return String.format(
          "%d/%d %.0f%%", lines, lineTotal, 100.0 * lines / Math.max(1, lineTotal));
    }

    String branchText() {
      return String.format(
          "%d/%d %.0f%%", branches, branchTotal, 100.0 * branches / Math.max(1, branchTotal));
    }
  }

  Figures report(List<String> scope) throws IOException {
    ExecutionDataStore store = new ExecutionDataStore();
    reached.forEach(
        (id, probes) -> store.put(new ExecutionData(id, names.get(id), probes.clone())));
    CoverageBuilder builder = new CoverageBuilder();
    Analyzer analyzer = new Analyzer(store, builder);
    for (String cls : classesIn(scope)) {
      try (InputStream in = loader.getParent().getResourceAsStream(cls + ".class")) {
        analyzer.analyzeClass(in, cls);
      }
    }
    int l = 0, lt = 0, b = 0, bt = 0;
    for (var c : builder.getClasses()) {
      ICounter lines = c.getLineCounter();
      ICounter branches = c.getBranchCounter();
      l += lines.getCoveredCount();
      lt += lines.getTotalCount();
      b += branches.getCoveredCount();
      bt += branches.getTotalCount();
    }
    return new Figures(l, lt, b, bt);
  }

  /** Class names (with slashes) on the class path that start with one of {@code scope}. */
  private static List<String> classesIn(List<String> scope) throws IOException {
    List<String> out = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path p = Path.of(entry);
      List<String> names = new ArrayList<>();
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.walk(p)) {
          s.map(f -> p.relativize(f).toString()).forEach(names::add);
        }
      } else if (Files.isRegularFile(p)) {
        try (JarFile jar = new JarFile(p.toFile())) {
          jar.stream().forEach(e -> names.add(e.getName()));
        }
      }
      for (String n : names) {
        if (n.endsWith(".class") && scope.stream().anyMatch(n::startsWith)) {
          out.add(n.substring(0, n.length() - ".class".length()));
        }
      }
    }
    return out;
  }

  /** Child-first for xsm's classes, instrumenting all but the fuzzer's own. */
  private final class Loader extends ClassLoader {
    Loader(ClassLoader parent) {
      super("fuzz-instrumented", parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (!name.startsWith("org.xsm.") || SHARED.contains(name)) {
        return super.loadClass(name, resolve);
      }
      synchronized (getClassLoadingLock(name)) {
        Class<?> c = findLoadedClass(name);
        if (c == null) {
          c = define(name);
        }
        if (resolve) {
          resolveClass(c);
        }
        return c;
      }
    }

    private Class<?> define(String name) throws ClassNotFoundException {
      String resource = name.replace('.', '/') + ".class";
      try (InputStream in = getParent().getResourceAsStream(resource)) {
        if (in == null) {
          throw new ClassNotFoundException(name);
        }
        byte[] bytes = in.readAllBytes();
        if (!name.startsWith("org.xsm.bench.")) {
          bytes = instrumenter.instrument(bytes, name);
        }
        return defineClass(name, bytes, 0, bytes.length);
      } catch (IOException e) {
        throw new ClassNotFoundException(name + ": " + e.getMessage(), e);
      }
    }
  }
}
