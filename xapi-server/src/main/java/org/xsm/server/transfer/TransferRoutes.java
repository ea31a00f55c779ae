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
  @Inject Database db;
  @Inject Sessions sessions;
  @Inject Rbac rbac;
  @Inject org.xsm.server.audit.AuditLog audit;
  @Inject SrService storage;
  @Inject Tasks tasks;

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
    workers.execute(() -> runImport(rc, body));
  }

  private void runImport(RoutingContext rc, BodyPipe body) {
    Target t = null;
    Path spool = spoolDir().resolve(UUID.randomUUID() + ".spool");
    try {
      t = target(rc, true, "VDI import");
      TransferTask task = t.task;
      long size = db.get(t.vdi, Vdi.VIRTUAL_SIZE);
      String declared = rc.request().getHeader("Content-Length");
      if (t.format.equals("raw") && declared != null && Long.parseLong(declared) != size) {
        throw TransferException.badInput(
            "wrong size: the upload has " + declared + " bytes, the VDI " + size);
      }
      Files.createDirectories(spoolDir());
      try {
        if (t.format.equals("raw")) {
          VdiImport.spoolRaw(body, spool, size, n -> task.progress(0.5 * n / size));
        } else if (t.format.equals("qcow2")) {
          Qcow2Transfer.spool(body, spool, size, n -> task.progress(0.5 * n / size));
        } else {
          VdiImport.spoolVhd(body, spool, size, n -> task.progress(0.5 * n / size));
        }
      } catch (IOException e) {
        if (body.failed()) {
          throw TransferException.badInput("truncated upload: " + e.getMessage());
        }
        throw e;
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
      rc.response().setStatusCode(200).end();
    } catch (TransferException e) {
      body.discard();
      fail(rc, t, e);
    } catch (XenApiException e) {
      body.discard();
      fail(rc, t, fromXenApi(e));
    } catch (SmException e) {
      body.discard();
      fail(rc, t, new TransferException(500, e.error().name(), e.getMessage()));
    } catch (IOException | RuntimeException e) {
      body.discard();
      fail(rc, t, new TransferException(500, "INTERNAL_ERROR", String.valueOf(e.getMessage())));
    } finally {
      try {
        VdiImport.finish(spool);
      } catch (IOException e) {
        LOG.warnf(e, "spool %s of an import is left for the next start", spool);
      }
    }
  }

  private void exportVdi(RoutingContext rc) {
    workers.execute(() -> runExport(rc));
  }

  private void runExport(RoutingContext rc) {
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
      VdiDevice d = activate(t.vdi, false);
      try {
        VdiDevice b = base == null ? null : activate(base, false);
        try {
          long size = d.sizeBytes();
          if (t.format.equals("qcow2")) {
            Optional<String> baseUuid =
                base == null ? Optional.empty() : Optional.of(db.get(base, Vdi.UUID));
            Path file =
                Qcow2Transfer.build(d, b, baseUuid, spoolDir(), n -> task.progress(0.5 * n / size));
            try {
              HttpServerResponse r = rc.response();
              long length = Files.size(file);
              r.putHeader("Content-Type", "application/octet-stream");
              r.putHeader("Content-Length", Long.toString(length));
              started = true;
              try (ResponseStream out = new ResponseStream(r)) {
                Files.copy(file, out);
              }
            } finally {
              Files.deleteIfExists(file);
            }
            task.success();
            return;
          }
          VhdExport x =
              t.format.equals("raw")
                  ? VhdExport.raw(d)
                  : VhdExport.vhd(d, b, n -> task.progress(0.5 * n / size));
          double from = b == null ? 0 : 0.5;
          long length = x.lengthBytes();
          HttpServerResponse r = rc.response();
          r.putHeader("Content-Type", "application/octet-stream");
          r.putHeader("Content-Length", Long.toString(length));
          started = true;
          try (ResponseStream out = new ResponseStream(r)) {
            x.writeTo(out, n -> task.progress(from + (1 - from) * n / length));
          }
        } finally {
          if (b != null) {
            storage.deactivate(base);
          }
        }
      } finally {
        storage.deactivate(t.vdi);
      }
      task.success();
    } catch (TransferException e) {
      failExport(rc, t, e, started);
    } catch (XenApiException e) {
      failExport(rc, t, fromXenApi(e), started);
    } catch (SmException e) {
      failExport(rc, t, new TransferException(500, e.error().name(), e.getMessage()), started);
    } catch (IOException | RuntimeException e) {
      failExport(
          rc,
          t,
          new TransferException(500, "INTERNAL_ERROR", String.valueOf(e.getMessage())),
          started);
    }
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
      RoutingContext rc, Target t, TransferException e, boolean started) {
    if (!started) {
      fail(rc, t, e);
      return;
    }
    if (t != null) {
      t.task.failure(e.code, e.getMessage());
    }
    // Headers are out: the client can only see the stream cut short of its Content-Length.
    rc.response().reset();
  }
}
