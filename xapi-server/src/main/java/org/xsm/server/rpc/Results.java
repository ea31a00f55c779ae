package org.xsm.server.rpc;

import org.xsm.server.model.XenApiException;

/** Wire results of service calls. */
public final class Results {
  private Results() {}

  /** A service call without a result. */
  @FunctionalInterface
  public interface Action {
    void run() throws XenApiException;
  }

  /** Runs {@code a}; XenAPI's result of a void message is the empty string. */
  public static Object none(Action a) throws XenApiException {
    a.run();
    return "";
  }
}
