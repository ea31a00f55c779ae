package org.xsm.plugins.filesr;

import java.util.function.Consumer;

/**
 * Named points in multi-step SR operations where a crash test can stop the process. Production code
 * calls {@link #hit} between durable steps; by default it does nothing. A crash test installs a
 * hook (in a forked JVM) that announces the point and waits to be killed.
 */
public final class CrashPoints {
  private static volatile Consumer<String> hook = name -> {};

  private CrashPoints() {}

  /** Marks that the operation has durably reached {@code name}. */
  public static void hit(String name) {
    hook.accept(name);
  }

  /** Installs the hook (tests only). */
  public static void install(Consumer<String> h) {
    hook = h;
  }
}
