package org.xsm.server.event;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Schema;
import org.xsm.server.model.Session;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.rpc.SessionCheck;

/**
 * The {@code event} class: {@code from}, {@code inject}, {@code register}, {@code next}, {@code
 * unregister}, {@code get_current_id} (behaviour in {@link EventService}).
 */
@ApplicationScoped
public class EventMessages implements RpcModule {
  @Inject Database db;
  @Inject EventService events;
  @Inject SessionCheck sessions;

  @Override
  public void register(Dispatcher d) {
    d.register(
        "event.from",
        4,
        true,
        false,
        (ctx, a) -> {
          List<String> classes = Params.strings(a.get(0), "classes");
          String token = Params.str(a, 1);
          double timeout = Math.min(Params.dbl(a.get(2), "timeout"), 3600);
          return interruptible(() -> events.from(classes, token, timeout, probe(ctx)));
        });
    d.register(
        "event.inject",
        3,
        true,
        false,
        (ctx, a) -> {
          String cls = Params.str(a, 0);
          String ref = Params.str(a, 1);
          XClass<?> c = Schema.get(cls);
          if (c == null || db.classOf(ref) != c) {
            throw new XenApiException(XenApiError.HANDLE_INVALID, cls, ref);
          }
          db.events().inject(c.name(), ref, db.wireRecord(c, ref));
          return db.events().currentToken();
        });
    d.register(
        "event.register",
        2,
        true,
        false,
        (ctx, a) -> {
          events.register(ctx.session(), Params.strings(a.get(0), "classes"));
          return "";
        });
    d.register(
        "event.unregister",
        2,
        true,
        false,
        (ctx, a) -> {
          events.unregister(ctx.session(), Params.strings(a.get(0), "classes"));
          return "";
        });
    d.register(
        "event.next",
        1,
        true,
        false,
        (ctx, a) -> interruptible(() -> events.next(ctx.session(), probe(ctx))));
    d.register("event.get_current_id", 1, true, false, (ctx, a) -> db.events().lastId());
  }

  /** The caller's session, checked while a call waits; an ended one drops its subscription. */
  private EventService.SessionProbe probe(CallContext ctx) {
    Ref<Session> session = Ref.of(ctx.session());
    return new EventService.SessionProbe() {
      @Override
      public void check() throws XenApiException {
        try {
          sessions.validate(ctx.session());
        } catch (XenApiException e) {
          events.forget(ctx.session());
          throw e;
        }
      }

      @Override
      public boolean ended() {
        return !db.exists(Session.CLASS, session); // a lookup in a concurrent map, no lock
      }
    };
  }

  /** A blocking wait that the server's shutdown may interrupt. */
  @FunctionalInterface
  private interface Wait {
    Object call() throws XenApiException, InterruptedException;
  }

  private static Object interruptible(Wait w) throws XenApiException {
    try {
      return w.call();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new XenApiException(XenApiError.EVENT_FROM_FAILED, "interrupted");
    }
  }
}
