package org.xsm.server.rpc;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * Routes a decoded call to its message: checks the parameter count, the session and the caller's
 * role, runs {@code Async.*} calls as tasks, and turns every failure into a XenAPI error.
 */
@ApplicationScoped
public class Dispatcher {
  private static final Logger LOG = Logger.getLogger(Dispatcher.class);
  private final Map<String, RpcMethod> methods = new ConcurrentHashMap<>();
  @Inject Instance<RpcModule> modules;
  @Inject Instance<CallGate> gates;
  @Inject SessionCheck sessions;
  @Inject AccessCheck access;
  @Inject AsyncCalls tasks;
  @Inject AuditTrail auditTrail;
  @Inject Database db;
  @Inject io.micrometer.core.instrument.MeterRegistry metrics;
  private volatile boolean ready;

  /** Messages registered by {@link #registerDefault} and not (yet) replaced by a feature's. */
  private final java.util.Set<String> defaults = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * Registers a feature's message; it replaces a generic one of that name, but two features
   * registering one name is a mistake (which one answers would depend on start-up order), so it
   * stops the start.
   */
  public void register(RpcMethod m) {
    RpcMethod before = methods.put(m.name(), m);
    if (before != null && !defaults.remove(m.name())) {
      throw new IllegalStateException(m.name() + " is registered by two features");
    }
  }

  /** Registers a message: {@code arity} counts the session parameter if {@code session}. */
  public void register(
      String name, int arity, boolean session, boolean write, RpcMethod.Handler h) {
    register(new RpcMethod(name, arity, session, write, h));
  }

  /**
   * Registers a message unless a feature registers its own under that name (the generic messages of
   * the model, which a feature overrides when a change must reach the storage).
   */
  public void registerDefault(
      String name, int arity, boolean session, boolean write, RpcMethod.Handler h) {
    if (methods.putIfAbsent(name, new RpcMethod(name, arity, session, write, h)) == null) {
      defaults.add(name);
    }
  }

  private void init() {
    if (!ready) {
      synchronized (this) {
        if (!ready) {
          for (RpcModule m : modules) {
            m.register(this);
          }
          register("system.listMethods", 0, false, false, (c, a) -> listMethods());
          ready = true;
        }
      }
    }
  }

  /**
   * Every message name, sorted. Like xapi, only the synchronous wire names: Xen Orchestra's client
   * takes the class of every {@code *.get_all_records} listed here as an object type.
   */
  public List<String> listMethods() {
    init();
    return new ArrayList<>(new TreeSet<>(methods.keySet()));
  }

  public Object dispatch(RpcRequest req) throws XenApiException {
    init();
    String name = req.method();
    boolean async = false;
    if (name != null && name.startsWith("Async.")) {
      async = true;
      name = name.substring("Async.".length());
    }
    RpcMethod m = name == null ? null : methods.get(name);
    if (m == null) {
      metrics.counter("xapi.rpc.unknown").increment();
      throw new XenApiException(XenApiError.MESSAGE_METHOD_UNKNOWN, String.valueOf(req.method()));
    }
    long start = System.nanoTime();
    String outcome = "success";
    try {
      for (CallGate g : gates) {
        g.admit(m.name());
      }
      return dispatchKnown(req, m, async);
    } catch (XenApiException e) {
      outcome = e.code();
      throw e;
    } finally {
      // Tags are bounded: registered message names and XenAPI error codes.
      metrics
          .timer("xapi.rpc.calls", "method", req.method(), "outcome", outcome)
          .record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
    }
  }

  private Object dispatchKnown(RpcRequest req, RpcMethod m, boolean async) throws XenApiException {
    List<Object> params = req.params() == null ? List.of() : req.params();
    if (m.arity() >= 0 && params.size() != m.arity()) {
      // As xapi: the counts leave the session parameter out.
      int s = m.session() ? 1 : 0;
      throw new XenApiException(
          XenApiError.MESSAGE_PARAMETER_COUNT_MISMATCH,
          req.method(),
          String.valueOf(m.arity() - s),
          String.valueOf(Math.max(0, params.size() - s)));
    }
    CallContext ctx = CallContext.anonymous();
    List<Object> args = params;
    if (m.session()) {
      if (params.isEmpty()) {
        throw new XenApiException(XenApiError.SESSION_INVALID, "");
      }
      ctx = sessions.validate(String.valueOf(params.get(0)));
      args = params.subList(1, params.size());
      try {
        access.check(ctx, m.name(), args);
      } catch (XenApiException denied) {
        audit(ctx, req.method(), args, denied.code());
        throw denied;
      }
    }
    if (async) {
      if (!m.session()) {
        throw new XenApiException(XenApiError.MESSAGE_METHOD_UNKNOWN, req.method());
      }
      List<Object> copy = new ArrayList<>(args);
      Object task = tasks.runAsync(ctx, req.method(), taskCtx -> invoke(m, taskCtx, copy));
      if (m.write()) {
        audit(ctx, req.method(), args, "task " + task);
      }
      return task;
    }
    if (!m.write() && !m.name().equals(LOGIN)) {
      return invoke(m, ctx, args);
    }
    String outcome = "success";
    try {
      return invoke(m, ctx, args);
    } catch (XenApiException e) {
      outcome = e.code();
      throw e;
    } finally {
      if (m.name().equals(LOGIN)) {
        // Who tried to log in: the user name, never the password.
        CallContext who =
            new CallContext(
                null, args.isEmpty() ? "" : String.valueOf(args.get(0)), null, false, null);
        auditTrail.record(who, CallOrigin.current(), m.name(), List.of(), outcome);
      } else {
        audit(ctx, m.name(), args, outcome);
      }
    }
  }

  private static final String LOGIN = "session.login_with_password";

  /** Reports a call to the audit trail with the object references among its parameters. */
  private void audit(CallContext ctx, String method, List<Object> args, String outcome) {
    List<String> refs = new ArrayList<>();
    for (Object a : args) {
      if (a instanceof String s && s.startsWith("OpaqueRef:")) {
        refs.add(s);
      }
    }
    auditTrail.record(ctx, CallOrigin.current(), method, refs, outcome);
  }

  /**
   * Calls a handler as one unit of work (what it changes is written in one transaction when it
   * returns), mapping unexpected failures to INTERNAL_ERROR. Such a failure is logged with its
   * cause under a correlation id, which the error's parameters carry to the client.
   */
  public Object invoke(RpcMethod m, CallContext ctx, List<Object> args) throws XenApiException {
    db.beginCall();
    try {
      return m.handler().call(ctx, args);
    } catch (XenApiException e) {
      throw e;
    } catch (IndexOutOfBoundsException e) {
      throw new XenApiException(
          XenApiError.MESSAGE_PARAMETER_COUNT_MISMATCH, m.name(), String.valueOf(m.arity()), "?");
    } catch (RuntimeException e) {
      String id = java.util.UUID.randomUUID().toString();
      LOG.errorf(e, "%s failed unexpectedly (correlation id %s)", m.name(), id);
      throw new XenApiException(
          XenApiError.INTERNAL_ERROR, String.valueOf(e.getMessage()), "correlation id " + id);
    } finally {
      db.endCall();
    }
  }
}
