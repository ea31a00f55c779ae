package org.xsm.server.rpc;

import org.xsm.server.model.XenApiException;

/** Runs {@code Async.*} calls as tasks (implemented by the task feature). */
public interface AsyncCalls {
  /** The body of an asynchronous call, given the context that names its task. */
  @FunctionalInterface
  interface Body {
    Object run(CallContext taskContext) throws XenApiException;
  }

  /**
   * Creates a pending task for {@code name}, runs {@code body} on a worker and records its outcome
   * in the task.
   *
   * @return the task's reference
   */
  String runAsync(CallContext ctx, String name, Body body);
}
