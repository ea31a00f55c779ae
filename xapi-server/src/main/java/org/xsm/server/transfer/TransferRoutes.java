package org.xsm.server.transfer;

import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Context;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rbac.Rbac;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.session.Sessions;
import org.xsm.server.sr.SrService;
import org.xsm.server.task.Tasks;
import org.xsm.server.vdi.CbtService;

/**
 * xapi's HTTP disk transfer: {@code PUT /import_raw_vdi?session_id=&vdi=&format=raw|vhd|qcow2} and
 * {@code GET /export_raw_vdi?session_id=&vdi=&format=raw|vhd|qcow2[&base=]}, optionally with {@code
 * task_id}. qcow2 is {@link Qcow2Transfer}; with {@code base=} it is a qcow2 over a backing file.
 * Bodies stream through worker threads with back-pressure both ways; the VDI is used through its
 * device only (activated for the transfer, so it must not be attached elsewhere).
 *
 * <p>Failures answer with an HTTP status (400 bad input, 401 bad session, 403 a role without the
 * permission (xapi's: vm-admin and above), 404 unknown VDI, 409 VDI in use, 500 otherwise), a
 * one-line text naming the problem, and the task failed with {@code [code, message]}. See {@link
 * VdiImport} for why a failed import leaves the VDI as it was.
 */
@ApplicationScoped
public class TransferRoutes {
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(TransferRoutes.class);

  /** xapi's error for a transfer whose connection ended before it was whole. */
  static final String CUT_BY_CLIENT = "VDI_IO_ERROR";

  @Inject Database db;
  @Inject Sessions sessions;
  @Inject Rbac rbac;
  @Inject org.xsm.server.audit.AuditLog audit;
  @Inject SrService storage;
  @Inject Tasks tasks;
  @Inject CbtService cbt;

  @ConfigProperty(name = "xsm.data-dir", defaultValue = "./xsm-data")
  String dataDir;

  private final ExecutorService workers =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "xapi-transfer");
            t.setDaemon(true);
            return t;
          });

  Path spoolDir() {
    return Path.of(dataDir, "transfer");
  }

  /** After the server's own start-up (database, SRs): imports cut by a crash are applied again. */
  void onStart(
      @Observes
          @jakarta.annotation.Priority(jakarta.interceptor.Interceptor.Priority.APPLICATION + 1000)
          StartupEvent ev)
      throws IOException {
    rollForward();
  }

  /** Applies the imports a crash interrupted (see {@link VdiImport}), then clears the spool. */
  void rollForward() throws IOException {
    for (VdiImport.Redo r : VdiImport.recover(spoolDir())) {
      List<Ref<Vdi>> refs = db.where(Vdi.UUID, r.vdiUuid());
      try {
        if (refs.isEmpty()) {
          LOG.warnf("import into VDI %s not finished: the VDI is gone", r.vdiUuid());
        } else {
          VdiDevice d = storage.activate(refs.get(0), true);
          try {
            if (r.format().equals("vhd")) {
              VdiImport.applyVhd(r.spool(), d, n -> {});
            } else if (r.format().equals("qcow2")) {
              Qcow2Transfer.apply(r.spool(), d, n -> {});
            } else {
              VdiImport.applyRaw(r.spool(), d, n -> {});
            }
          } finally {
            storage.deactivate(refs.get(0));
          }
          LOG.infof("import into VDI %s, cut by a restart, applied again", r.vdiUuid());
        }
      } catch (XenApiException | SmException e) {
        LOG.errorf(e, "import into VDI %s, cut by a restart, failed again", r.vdiUuid());
      }
      VdiImport.finish(r.spool());
    }
  }

  void init(@Observes Router router) {
    router.put("/import_raw_vdi").order(-10).handler(this::importVdi);
    router.get("/export_raw_vdi").order(-10).handler(this::exportVdi);
  }

  private record Target(Ref<Vdi> vdi, String format, TransferTask task) {}

  private Target target(RoutingContext rc, boolean write, String name) throws TransferException {
    CallContext ctx;
    try {
      ctx = sessions.validate(String.valueOf(rc.request().getParam("session_id")));
    } catch (XenApiException e) {
      throw new TransferException(401, e.code(), "session_id is missing or invalid");
    }
    String action = write ? "put_import_raw_vdi" : "get_export_raw_vdi";
    String source = String.valueOf(rc.request().remoteAddress());
    List<String> what = List.of(String.valueOf(rc.request().getParam("vdi")));
    try {
      // xapi's permissions of these handlers: vm-admin and above, both ways.
      rbac.checkHttp(ctx, action);
    } catch (XenApiException e) {
      audit.transfer(ctx, source, action, what, e.code());
      throw new TransferException(403, e.code(), String.join(" ", e.params()));
    }
    audit.transfer(ctx, source, action, what, "started");
    Ref<Vdi> vdi = Ref.of(rc.request().getParam("vdi"));
    if (!db.exists(Vdi.CLASS, vdi)) {
      throw new TransferException(404, "HANDLE_INVALID", "no VDI " + vdi);
    }
    String format = rc.request().getParam("format", "raw");
    if (!format.equals("raw") && !format.equals("vhd") && !format.equals("qcow2")) {
      throw TransferException.badInput("format must be raw, vhd or qcow2, not " + format);
    }
    try {
      return new Target(
          vdi, format, TransferTask.start(db, tasks, rc.request().getParam("task_id"), name));
    } catch (XenApiException e) {
      throw new TransferException(500, e.code(), e.getMessage());
    }
  }

  private void importVdi(RoutingContext rc) {
    HttpServerRequest req = rc.request();
    req.pause();
    BodyPipe body = new BodyPipe(req, rc.vertx().getOrCreateContext());
    Context ctx = rc.vertx().getOrCreateContext();
    ctx.runOnContext(v -> req.resume());
    workers.execute(() -> runImport(rc, ctx, body));
  }

  /**
   * As xapi's handler: the request's session, permission, VDI and format are checked first (and a
   * failure answered with its status), then {@code 200} is sent before any of the body is read (Xen
   * Orchestra's connector probes with an empty body and gives up on anything else); from then on
   * every failure is reported on the task, and the connection is closed.
   */
  private void runImport(RoutingContext rc, Context ctx, BodyPipe body) {
    Target t;
    try {
      t = target(rc, true, "VDI import");
    } catch (TransferException e) {
      body.discard();
      fail(rc, null, e);
      return;
    }
    Path spool = spoolDir().resolve(UUID.randomUUID() + ".spool");
    TransferTask task = t.task;
    HttpServerResponse r = rc.response();
    ctx.runOnContext(
        v -> {
          if ("100-continue".equalsIgnoreCase(rc.request().getHeader("Expect"))) {
            r.writeContinue();
          }
          // xapi's answer has no length: it ends when the server closes the connection after
          // the import. Chunked is the same for a client (the body is never complete before
          // the end), so the client keeps sending; an ended response would stop it.
          r.setStatusCode(200)
              .putHeader("Content-Type", "application/octet-stream")
              .putHeader("Connection", "close")
              .putHeader("task-id", task.ref())
              .setChunked(true)
              .write(io.vertx.core.buffer.Buffer.buffer());
        });
    try {
      long size = db.get(t.vdi, Vdi.VIRTUAL_SIZE);
      Files.createDirectories(spoolDir());
      if (t.format.equals("raw")) {
        VdiImport.spoolRaw(body, spool, size, n -> task.progress(0.5 * n / size));
      } else if (t.format.equals("qcow2")) {
        Qcow2Transfer.spool(body, spool, size, n -> task.progress(0.5 * n / size));
      } else {
        VdiImport.spoolVhd(body, spool, size, n -> task.progress(0.5 * n / size));
      }
      VdiImport.markApplying(spool, db.get(t.vdi, Vdi.UUID), t.format);
      VdiDevice d = activate(t.vdi, true);
      try {
        if (t.format.equals("raw")) {
          VdiImport.applyRaw(spool, d, n -> task.progress(0.5 + 0.5 * n / size));
        } else if (t.format.equals("qcow2")) {
          Qcow2Transfer.apply(spool, d, n -> task.progress(0.5 + 0.5 * n / size));
        } else {
          VdiImport.applyVhd(spool, d, n -> task.progress(0.5 + 0.5 * n / size));
        }
      } finally {
        storage.deactivate(t.vdi);
      }
      task.success();
      ctx.runOnContext(v -> endAndClose(rc));
    } catch (TransferException e) {
      failImport(ctx, rc, body, t, e);
    } catch (XenApiException e) {
      failImport(ctx, rc, body, t, fromXenApi(e));
    } catch (SmException e) {
      failImport(ctx, rc, body, t, new TransferException(500, e.error().name(), e.getMessage()));
    } catch (IOException | RuntimeException e) {
      LOG.warnf(e, "import into %s failed", t.vdi);
      failImport(
          ctx,
          rc,
          body,
          t,
          new TransferException(500, "INTERNAL_ERROR", String.valueOf(e.getMessage())));
    } finally {
      try {
        VdiImport.finish(spool);
      } catch (IOException e) {
        LOG.warnf(e, "spool %s of an import is left for the next start", spool);
      }
    }
  }

  /**
   * After the 200: the task says what went wrong; the connection closes, ending the upload. An
   * upload the client cut (its connection ended before the image was whole) fails as xapi's does:
   * {@code failure} (xapi sets {@code cancelled} only for {@code TASK_CANCELLED}) with {@code
   * VDI_IO_ERROR}, the error its vhd-tool reports when the socket ends early, what Xen Orchestra's
   * connector expects (and ignores) for uploads of unknown length.
   */
  private static void failImport(
      Context ctx, RoutingContext rc, BodyPipe body, Target t, TransferException e) {
    if (body.closedEarly()) {
      t.task.failure(
          CUT_BY_CLIENT,
          "Device I/O errors: the connection ended first ("
              + body.closeReason()
              + "): "
              + e.getMessage());
    } else {
      t.task.failure(e.code, e.getMessage());
    }
    body.discard();
    ctx.runOnContext(v -> endAndClose(rc));
  }

  private static void endAndClose(RoutingContext rc) {
    if (!rc.response().ended() && !rc.response().closed()) {
      rc.response().end();
    }
    rc.request().connection().close();
  }

  private void exportVdi(RoutingContext rc) {
    Context ctx = rc.vertx().getOrCreateContext();
    workers.execute(() -> runExport(rc, ctx));
  }

  private void runExport(RoutingContext rc, Context ctx) {
    Target t = null;
    boolean started = false;
    try {
      t = target(rc, false, "VDI export");
      TransferTask task = t.task;
      String baseParam = rc.request().getParam("base");
      Ref<Vdi> base = baseParam == null ? null : Ref.of(baseParam);
      if (base != null && (t.format.equals("raw") || !db.exists(Vdi.CLASS, base))) {
        throw TransferException.badInput(
            "base needs format=vhd or qcow2 and an existing VDI: " + base);
      }
      try (var lease = storage.readShared(t.vdi)) {
        VdiDevice d = lease.device();
        long size = d.sizeBytes();
        if (t.format.equals("qcow2")) {
          Path file = buildQcow2(d, base, n -> task.progress(0.5 * n / size));
          lease.close(); // the image is built: a client's next call may use the VDI at once
          try {
            started = true;
            send(rc, Files.size(file), out -> Files.copy(file, out));
          } finally {
            Files.deleteIfExists(file);
          }
          task.success();
          return;
        }
        VhdExport x;
        if (t.format.equals("raw")) {
          x = VhdExport.raw(d);
        } else if (base == null) {
          x = VhdExport.vhd(d, DeltaBlocks.allocated(d), null, plan().identity(t.vdi), null);
        } else {
          ExportPlan.Delta delta = plan().delta(t.vdi, d, base, n -> task.progress(0.5 * n / size));
          LOG.debugf(
              "delta of %s over %s: %d blocks, from %s",
              t.vdi, base, delta.blocks().cardinality(), delta.source());
          x =
              VhdExport.vhd(
                  d, delta.blocks(), delta.granules(), plan().identity(t.vdi), plan().parent(base));
        }
        double from = base == null ? 0 : 0.5;
        long length = x.lengthBytes();
        started = true;
        send(
            rc,
            length,
            out -> {
              x.writeTo(out, n -> task.progress(from + (1 - from) * n / length));
              // Released before the response ends: a client that has all the bytes may use the
              // VDI at once (destroy it, attach it), so nothing of this export may still hold it.
              lease.close();
            });
      }
      task.success();
    } catch (TransferException e) {
      failExport(ctx, rc, t, e, started);
    } catch (XenApiException e) {
      failExport(ctx, rc, t, fromXenApi(e), started);
    } catch (SmException e) {
      failExport(ctx, rc, t, new TransferException(500, e.error().name(), e.getMessage()), started);
    } catch (IOException | RuntimeException e) {
      if (!(e instanceof IOException)) {
        LOG.warnf(e, "export failed");
      }
      failExport(
          ctx,
          rc,
          t,
          new TransferException(500, "INTERNAL_ERROR", String.valueOf(e.getMessage())),
          started);
    }
  }

  private ExportPlan plan() {
    return new ExportPlan(db, storage, cbt);
  }

  private Path buildQcow2(VdiDevice d, Ref<Vdi> base, java.util.function.LongConsumer progress)
      throws XenApiException, SmException, IOException, TransferException {
    if (base == null) {
      return Qcow2Transfer.build(d, null, Optional.empty(), spoolDir(), progress);
    }
    try (var b = storage.readShared(base)) {
      return Qcow2Transfer.build(
          d, b.device(), Optional.of(db.get(base, Vdi.UUID)), spoolDir(), progress);
    }
  }

  private interface Body {
    void writeTo(ResponseStream out) throws IOException, SmException, XenApiException;
  }

  private static void send(RoutingContext rc, long length, Body body)
      throws IOException, SmException, XenApiException {
    HttpServerResponse r = rc.response();
    r.putHeader("Content-Type", "application/octet-stream");
    r.putHeader("Content-Length", Long.toString(length));
    ResponseStream out = new ResponseStream(r);
    body.writeTo(out);
    out.close(); // only when whole: a failed export must not end as if complete (see failExport)
  }

  private VdiDevice activate(Ref<Vdi> vdi, boolean writable) throws XenApiException {
    return storage.activate(vdi, writable);
  }

  private static TransferException fromXenApi(XenApiException e) {
    int status =
        switch (e.code()) {
          case "VDI_IN_USE" -> 409;
          case "HANDLE_INVALID", "VDI_MISSING" -> 404;
          default -> 500;
        };
    return new TransferException(status, e.code(), String.join(" ", e.errorDescription()));
  }

  private static void fail(RoutingContext rc, Target t, TransferException e) {
    if (t != null) {
      t.task.failure(e.code, e.getMessage());
    }
    HttpServerResponse r = rc.response();
    if (!r.ended() && !r.headWritten()) {
      // The rest of an upload is read and dropped; the connection closes after this answer.
      r.setStatusCode(e.status)
          .putHeader("Content-Type", "text/plain")
          .putHeader("Connection", "close")
          .end(e.code + ": " + e.getMessage() + "\n");
    }
  }

  private static void failExport(
      Context ctx, RoutingContext rc, Target t, TransferException e, boolean started) {
    if (!started) {
      fail(rc, t, e);
      return;
    }
    if (t != null) {
      if (rc.response().closed()) {
        // The client went away mid-stream: failure with VDI_IO_ERROR, as xapi's vhd-tool reports.
        t.task.failure(CUT_BY_CLIENT, "Device I/O errors: " + e.getMessage());
      } else {
        t.task.failure(e.code, e.getMessage());
      }
    }
    // Headers are out: the client can only see the stream cut short of its Content-Length.
    ctx.runOnContext(v -> rc.request().connection().close());
  }
}
