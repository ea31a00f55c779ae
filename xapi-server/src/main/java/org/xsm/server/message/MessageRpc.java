package org.xsm.server.message;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/**
 * The {@code message} class's own messages (create, destroy, get, get_since,
 * get_all_records_where); get_all, get_record, get_by_uuid and get_all_records are the model's.
 */
@ApplicationScoped
public class MessageRpc implements RpcModule {
  @Inject MessageService messages;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "message.create",
        6,
        true,
        true,
        (ctx, a) ->
            messages
                .create(
                    Params.str(a, 0),
                    Params.lng(a.get(1), "priority"),
                    Params.str(a, 2),
                    Params.str(a, 3),
                    Params.str(a, 4))
                .value());
    d.register(
        "message.destroy",
        2,
        true,
        true,
        (ctx, a) -> {
          messages.destroy(Params.ref(a, 0));
          return "";
        });
    d.register(
        "message.get",
        4,
        true,
        false,
        (ctx, a) ->
            messages.about(Params.str(a, 0), Params.str(a, 1), Params.time(a.get(2), "since")));
    d.register(
        "message.get_since",
        2,
        true,
        false,
        (ctx, a) -> messages.since(Params.time(a.get(0), "since")));
    d.register(
        "message.get_all_records_where",
        2,
        true,
        false,
        (ctx, a) -> messages.where(Params.str(a, 0)));
  }
}
