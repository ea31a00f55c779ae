package org.xsm.nfs.rpc;

import java.time.Duration;

/**
 * How long an ONC RPC client waits and how often it tries again.
 *
 * <p>A call that gets no reply within {@code timeout} makes the client drop the connection,
 * reconnect and send every outstanding call again with its original transaction id (so the server's
 * duplicate request cache can recognise it). After {@code retransmissions} such retries a call
 * fails with {@link RpcTimeoutException}: a call never waits longer than {@code timeout * (1 +
 * retransmissions)} plus one connect timeout, however the server behaves.
 *
 * @param timeout how long one attempt waits for its reply
 * @param retransmissions how many times a call is sent again before it fails
 * @param uid the AUTH_SYS user id sent with each call
 * @param gid the AUTH_SYS group id sent with each call
 */
public record RpcOptions(Duration timeout, int retransmissions, int uid, int gid) {
  /** 5 s per attempt, 3 retransmissions: a dead server is reported within about 20 s. */
  public static final RpcOptions DEFAULT = new RpcOptions(Duration.ofSeconds(5), 3, 0, 0);

  public RpcOptions {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("RPC timeout must be positive, not " + timeout);
    }
    if (retransmissions < 0) {
      throw new IllegalArgumentException("retransmissions must be >= 0, not " + retransmissions);
    }
  }

  /** The longest a call can take before it fails. */
  public Duration totalTimeout() {
    return timeout.multipliedBy(1L + retransmissions);
  }
}
