package org.xsm.server.rpc;

/**
 * The network address a call came from, for the thread that runs it (set by the transport around
 * each call): login throttling and the audit trail read it.
 */
public final class CallOrigin {
  private static final ThreadLocal<String> ADDRESS = new ThreadLocal<>();

  private CallOrigin() {}

  /** Runs {@code r} with {@code address} as the current origin. */
  public static <T, E extends Exception> T with(String address, Body<T, E> r) throws E {
    String before = ADDRESS.get();
    ADDRESS.set(address);
    try {
      return r.run();
    } finally {
      if (before == null) {
        ADDRESS.remove();
      } else {
        ADDRESS.set(before);
      }
    }
  }

  /** The current call's address, or "local" for work the server starts itself. */
  public static String current() {
    String a = ADDRESS.get();
    return a == null ? "local" : a;
  }

  /** A body that returns a value and may throw. */
  @FunctionalInterface
  public interface Body<T, E extends Exception> {
    T run() throws E;
  }
}
