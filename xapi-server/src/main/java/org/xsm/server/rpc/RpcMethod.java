package org.xsm.server.rpc;

import java.util.List;
import org.xsm.server.model.XenApiException;

/**
 * One XenAPI message the server answers.
 *
 * @param name wire name, e.g. {@code VDI.snapshot}
 * @param arity number of parameters including the session, or -1 for "checked by the handler"
 * @param session whether the first parameter must be a valid session
 * @param write whether it changes anything (who may call it is {@link AccessCheck}'s to say)
 */
public record RpcMethod(String name, int arity, boolean session, boolean write, Handler handler) {

  /** The implementation: gets the parameters after the session. */
  @FunctionalInterface
  public interface Handler {
    Object call(CallContext ctx, List<Object> args) throws XenApiException;
  }
}
