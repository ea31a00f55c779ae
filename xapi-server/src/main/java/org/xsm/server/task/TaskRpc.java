package org.xsm.server.task;

import static org.xsm.server.rpc.Results.none;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/** task.create, task.cancel, task.destroy, task.set_progress. */
@ApplicationScoped
public class TaskRpc implements RpcModule {
  @Inject Tasks tasks;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "task.cancel", 2, true, true, (ctx, a) -> none(() -> tasks.cancel(Params.ref(a, 0))));
    d.register(
        "task.destroy", 2, true, true, (ctx, a) -> none(() -> tasks.destroy(Params.ref(a, 0))));
    d.register(
        "task.create",
        3,
        true,
        true,
        (ctx, a) -> tasks.create(Params.str(a, 0), Params.str(a, 1)).value());
    d.register(
        "task.set_progress",
        3,
        true,
        true,
        (ctx, a) ->
            none(() -> tasks.setProgressOf(Params.ref(a, 0), Params.dbl(a.get(1), "value"))));
  }
}
