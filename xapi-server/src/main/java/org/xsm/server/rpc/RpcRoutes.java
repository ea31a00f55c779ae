package org.xsm.server.rpc;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.xsm.server.model.XenApiException;

/**
 * The XenAPI endpoints: JSON-RPC on {@code /jsonrpc}, XML-RPC on {@code /}, {@code /RPC2} and any
 * other POST path (as xapi: longest prefix, XML-RPC by default). Content types are exactly {@code
 * text/xml} and {@code application/json} (Xen Orchestra's client switches transport otherwise).
 * Calls run on worker threads; {@code event.from} may block there up to its timeout.
 */
@ApplicationScoped
public class RpcRoutes {
  static final long MAX_BODY_BYTES = 16L * 1024 * 1024;

  @Inject Dispatcher dispatcher;

  void init(@Observes Router router) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES);
    router.post("/jsonrpc").handler(body).blockingHandler(this::json, false);
    router.post("/*").order(1000).handler(body).blockingHandler(this::xml, false);
  }

  private void json(RoutingContext rc) {
    byte[] in = rc.body().buffer() == null ? new byte[0] : rc.body().buffer().getBytes();
    byte[] out;
    RpcRequest req = null;
    try {
      req = JsonRpcCodec.decode(in);
      RpcRequest call = req;
      out =
          JsonRpcCodec.encodeSuccess(
              req, CallOrigin.with(origin(rc), () -> dispatcher.dispatch(call)));
    } catch (XenApiException e) {
      out = req == null ? JsonRpcCodec.encodeFailure(e) : JsonRpcCodec.encodeFailure(req, e);
    }
    rc.response().putHeader("Content-Type", "application/json").end(Buffer.buffer(out));
  }

  private static String origin(RoutingContext rc) {
    var a = rc.request().remoteAddress();
    return a == null ? "unknown" : a.hostAddress();
  }

  private void xml(RoutingContext rc) {
    byte[] in = rc.body().buffer() == null ? new byte[0] : rc.body().buffer().getBytes();
    byte[] out;
    try {
      RpcRequest req = XmlRpcCodec.decode(in);
      Object v = CallOrigin.with(origin(rc), () -> dispatcher.dispatch(req));
      out =
          "system.listMethods".equals(req.method())
              ? XmlRpcCodec.encodeRaw(v)
              : XmlRpcCodec.encodeSuccess(v);
    } catch (XenApiException e) {
      out = XmlRpcCodec.encodeFailure(e);
    }
    rc.response().putHeader("Content-Type", "text/xml").end(Buffer.buffer(out));
  }
}
