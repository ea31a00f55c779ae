package org.xsm.server.blob;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.List;
import org.xsm.server.db.Database;
import org.xsm.server.model.Blob;
import org.xsm.server.model.Ref;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.session.Sessions;

/**
 * xapi's blob handler: {@code GET /blob?ref=<blob>&session_id=<s>} (or {@code uuid=<blob uuid>})
 * answers the bytes with the blob's mime type, {@code PUT} (or {@code POST}) replaces them. A
 * public blob may be read without a session. Failures answer with an HTTP status: 400 neither ref
 * nor uuid, 401 bad session, 403 read-only session writing, 404 unknown blob.
 */
@ApplicationScoped
public class BlobRoutes {
  /** Blobs are small (icons, notes, RRD archives); larger bodies get 413. */
  private static final long MAX_BYTES = 16L * 1024 * 1024;

  @Inject BlobService blobs;
  @Inject Database db;
  @Inject Sessions sessions;

  @Inject org.xsm.server.rbac.Rbac rbac;
  @Inject org.xsm.server.audit.AuditLog audit;

  void init(@Observes Router router) {
    router.get("/blob").order(-10).blockingHandler(this::get, false);
    BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_BYTES);
    router.put("/blob").order(-10).handler(body).blockingHandler(this::put, false);
    router.post("/blob").order(-10).handler(body).blockingHandler(this::put, false);
  }

  /** The blob a request names by {@code ref} or {@code uuid}; null after answering 400. */
  private Ref<Blob> blob(RoutingContext rc) {
    String ref = rc.request().getParam("ref");
    String uuid = rc.request().getParam("uuid");
    if (ref != null) {
      return Ref.of(ref);
    }
    if (uuid == null) {
      answer(rc, 400, "the blob handler needs a ref or uuid parameter");
      return null;
    }
    try {
      return db.byUuid(Blob.CLASS, uuid);
    } catch (XenApiException e) {
      return Ref.nullRef();
    }
  }

  private void get(RoutingContext rc) {
    Ref<Blob> blob = blob(rc);
    if (blob == null) {
      return;
    }
    try {
      if (!db.exists(Blob.CLASS, blob)) {
        answer(rc, 404, "HANDLE_INVALID: no blob " + blob.value());
        return;
      }
      if (!blobs.isPublic(blob) && session(rc) == null) {
        return;
      }
      byte[] data = blobs.read(blob);
      rc.response()
          .putHeader("Content-Type", db.get(blob, Blob.MIME_TYPE))
          .setStatusCode(200)
          .end(Buffer.buffer(data));
    } catch (XenApiException e) {
      answer(rc, 500, e.getMessage());
    }
  }

  private void put(RoutingContext rc) {
    Buffer body = rc.body().buffer() == null ? Buffer.buffer() : rc.body().buffer();
    Ref<Blob> blob = blob(rc);
    if (blob == null) {
      return;
    }
    try {
      CallContext ctx = session(rc);
      if (ctx == null) {
        return;
      }
      String source = String.valueOf(rc.request().remoteAddress());
      try {
        rbac.checkHttp(ctx, "put_blob"); // xapi: vm-power-admin and above
      } catch (XenApiException denied) {
        audit.transfer(ctx, source, "put_blob", List.of(blob.value()), denied.code());
        answer(rc, 403, denied.code() + ": " + String.join(" ", denied.params()));
        return;
      }
      audit.transfer(ctx, source, "put_blob", List.of(blob.value()), "started");
      if (!db.exists(Blob.CLASS, blob)) {
        answer(rc, 404, "HANDLE_INVALID: no blob " + blob.value());
        return;
      }
      blobs.write(blob, body.getBytes());
      answer(rc, 200, "");
    } catch (XenApiException e) {
      answer(rc, 500, e.getMessage());
    }
  }

  /** The caller, or null after answering 401. */
  private CallContext session(RoutingContext rc) {
    try {
      return sessions.validate(String.valueOf(rc.request().getParam("session_id")));
    } catch (XenApiException e) {
      answer(rc, 401, e.code() + ": session_id is missing or invalid");
      return null;
    }
  }

  private static void answer(RoutingContext rc, int status, String text) {
    HttpServerResponse r = rc.response();
    if (!r.ended()) {
      r.setStatusCode(status).putHeader("Content-Type", "text/plain").end(text);
    }
  }
}
