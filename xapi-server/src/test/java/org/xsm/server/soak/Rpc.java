package org.xsm.server.soak;

import java.io.IOException;
import java.util.List;

/**
 * A XenAPI client as the soak's workers use one: a call by name with its parameters (the session
 * first), over XML-RPC ({@link XmlRpc}, the Java SDK's transport) or JSON-RPC ({@link JsonRpc}).
 * Values are Java strings, booleans, longs, lists and maps either way.
 */
interface Rpc {

  /**
   * The call's value.
   *
   * @throws Failure when the server answered with a XenAPI error (the call did not happen, or did
   *     as the error says)
   * @throws IOException when no answer came (the server died, or the connection broke): the call
   *     may or may not have happened
   */
  Object call(String method, Object... params) throws Failure, IOException;

  /** Logs in as root; the session reference. */
  String login(String password) throws Failure, IOException;

  /** Which protocol, for the report. */
  String protocol();

  /** A XenAPI error: its code and parameters. */
  final class Failure extends Exception {
    final List<String> description;

    Failure(List<String> description) {
      super(String.join(" ", description));
      this.description = List.copyOf(description);
    }

    String code() {
      return description.isEmpty() ? "" : description.get(0);
    }
  }
}
