package org.xsm.server.xva;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;
import org.xsm.api.SmException;
import org.xsm.server.audit.AuditLog;
import org.xsm.server.db.Database;
import org.xsm.server.model.Pool;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Task;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rbac.Rbac;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.session.Sessions;
import org.xsm.server.task.TaskResults;
import org.xsm.server.task.Tasks;
import org.xsm.server.transfer.BodyPipe;
import org.xsm.server.transfer.ResponseStream;
import org.xsm.server.transfer.TransferTask;
import org.xsm.server.vm.VmOperations;

/**
 * xapi's full-VM HTTP handlers, thin over {@link XvaExporter} and {@link XvaImporter}:
 *
 * <ul>
 *   <li>{@code GET /export?session_id=&(uuid=|ref=)[&use_compression=true|gzip|zstd][&task_id=]}:
 *       the VM as an XVA, streamed (no Content-Length, as xapi), while the VM holds the {@code
 *       export} operation. Errors found before the first byte answer with a status and a line of
 *       text; after it, the connection is cut (the client sees a short archive) and the task fails.
 *   <li>{@code PUT /import?session_id=[&sr_id=][&restore=true][&force=true][&task_id=]}: as xapi,
 *       200 is answered before the body is read; the outcome is the task's (result: the new VMs as
 *       an XML-RPC array, or error_info). No SR given: the pool's default SR.
 * </ul>
 *
 * Permissions are xapi's {@code http/get_export} and {@code http/put_import} (vm-admin and above).
 */
@ApplicationScoped
public class XvaRoutes {
  private static final Logger LOG = Logger.getLogger(XvaRoutes.class);

  /** Bytes after the archive's last disk (end blocks, record padding) read before answering. */
  private static final long TRAILER_LIMIT_BYTES = 1024 * 1024;

  @Inject Database db;
  @Inject Sessions sessions;
  @Inject Rbac rbac;
  @Inject AuditLog audit;
  @Inject Tasks tasks;
  @Inject VmOperations operations;
  @Inject XvaExporter exporter;
  @Inject XvaImporter importer;

  private final ExecutorService workers =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "xapi-xva");
            t.setDaemon(true);
            return t;
          });

  void init(@Observes Router router) {
    router.get("/export").order(-10).handler(rc -> workers.execute(() -> export(rc)));
    router.put("/import").order(-10).handler(this::importVm);
  }

  /** A request refused before any answer was sent. */
  private static final class Refused extends Exception {
    final int status;
    final String code;

    Refused(int status, String code, String message) {
      super(message);
      this.status = status;
      this.code = code;
    }

    static Refused of(XenApiException e) {
      int status =
          switch (e.code()) {
            case "HANDLE_INVALID", "UUID_INVALID" -> 404;
            case "VM_BAD_POWER_STATE", "OTHER_OPERATION_IN_PROGRESS" -> 409;
            default -> 500;
          };
      List<String> d = e.errorDescription();
      return new Refused(status, e.code(), String.join(" ", d.subList(1, d.size())));
    }
  }

  private CallContext authorize(RoutingContext rc, String action, String what) throws Refused {
    CallContext ctx;
    try {
      ctx = sessions.validate(String.valueOf(rc.request().getParam("session_id")));
    } catch (XenApiException e) {
      throw new Refused(401, e.code(), "session_id is missing or invalid");
    }
    String source = String.valueOf(rc.request().remoteAddress());
    try {
      rbac.checkHttp(ctx, action);
    } catch (XenApiException e) {
      audit.transfer(ctx, source, action, List.of(what), e.code());
      throw new Refused(403, e.code(), String.join(" ", e.params()));
    }
    audit.transfer(ctx, source, action, List.of(what), "started");
    return ctx;
  }

  private void export(RoutingContext rc) {
    HttpServerRequest req = rc.request();
    TransferTask task = null;
    try {
      String uuid = req.getParam("uuid");
      String ref = req.getParam("ref");
      authorize(rc, "get_export", String.valueOf(ref != null ? ref : uuid));
      Ref<Vm> vm = ref != null ? Ref.of(ref) : lookupVm(uuid);
      if (!db.exists(Vm.CLASS, vm)) {
        throw new Refused(404, "HANDLE_INVALID", "no VM " + vm.value());
      }
      Compression compression = Compression.fromQuery(req.getParam("use_compression"));
      task = TransferTask.start(db, tasks, req.getParam("task_id"), "VM.export");
      TransferTask t = task;
      operations.assertValid(vm, VmOperations.Op.EXPORT); // as xapi's lock_vm
      XvaExporter.Plan plan = exporter.plan(vm);
      operations.during(
          vm,
          VmOperations.Op.EXPORT,
          t.ref(),
          () -> {
            HttpServerResponse r = rc.response();
            r.setChunked(true)
                .putHeader("Content-Type", "application/octet-stream")
                .putHeader("Content-Disposition", "attachment; filename=\"export.xva\"")
                .putHeader("task-id", t.ref())
                .putHeader("Connection", "close")
                .bodyEndHandler(v -> rc.request().connection().close());
            try {
              // Closing the compressor closes the response stream, which ends the response.
              OutputStream out = compression.compress(new ResponseStream(r));
              exporter.write(plan, out, t::progress);
              out.close();
            } catch (IOException | SmException e) {
              throw new ExportCut(e);
            }
            return null;
          });
      task.success();
    } catch (Refused e) {
      fail(rc, task, e);
    } catch (XenApiException e) {
      if (rc.response().headWritten()) {
        cut(rc, task, e.code(), String.join(" ", e.errorDescription()));
      } else {
        fail(rc, task, Refused.of(e));
      }
    } catch (ExportCut e) {
      String code = e.getCause() instanceof SmException sm ? sm.error().name() : "CLIENT_ERROR";
      cut(rc, task, code, String.valueOf(e.getCause().getMessage()));
    } catch (RuntimeException e) {
      LOG.error("VM export failed unexpectedly", e);
      if (rc.response().headWritten()) {
        cut(rc, task, "INTERNAL_ERROR", String.valueOf(e));
      } else {
        fail(rc, task, new Refused(500, "INTERNAL_ERROR", String.valueOf(e)));
      }
    }
  }

  /** Headers are out: the client can only see the archive cut short. */
  private static void cut(RoutingContext rc, TransferTask task, String code, String message) {
    LOG.warnf("VM export cut after it started: %s %s", code, message);
    if (task != null) {
      task.failure(code, message);
    }
    rc.response().reset();
  }

  /** An export failed after its headers were sent (only the connection can tell the client). */
  private static final class ExportCut extends RuntimeException {
    ExportCut(Exception cause) {
      super(cause);
    }
  }

  private Ref<Vm> lookupVm(String uuid) throws Refused {
    List<Ref<Vm>> l = db.where(Vm.UUID, String.valueOf(uuid));
    if (l.isEmpty()) {
      throw new Refused(404, "UUID_INVALID", "no VM with uuid " + uuid);
    }
    return l.get(0);
  }

  private void importVm(RoutingContext rc) {
    HttpServerRequest req = rc.request();
    req.pause();
    BodyPipe body = new BodyPipe(req, rc.vertx().getOrCreateContext());
    rc.vertx().getOrCreateContext().runOnContext(v -> req.resume());
    workers.execute(() -> runImport(rc, body));
  }

  private void runImport(RoutingContext rc, BodyPipe body) {
    HttpServerRequest req = rc.request();
    TransferTask task = null;
    try {
      authorize(rc, "put_import", String.valueOf(req.getParam("sr_id")));
      Ref<Sr> sr = targetSr(req);
      task = TransferTask.start(db, tasks, req.getParam("task_id"), "VM.import");
      boolean restore = "true".equals(req.getParam("restore"));
      boolean force = "true".equals(req.getParam("force"));
      // As xapi: the answer is sent before the body is read; the outcome is the task's.
      rc.response()
          .setChunked(true)
          .putHeader("Content-Type", "application/octet-stream")
          .putHeader("task-id", task.ref())
          .putHeader("Connection", "close")
          .setStatusCode(200)
          .bodyEndHandler(v -> req.connection().close()); // as xapi: no keep-alive
      rc.response().writeHead();
      TransferTask t = task;
      List<Ref<Vm>> vms;
      try {
        vms =
            importer.importArchive(eofOnDisconnect(body), sr, restore, force, t.ref(), t::progress);
      } catch (XenApiException e) {
        body.discard();
        tasks.fail(Ref.<Task>of(t.ref()), e.errorDescription());
        rc.response().end();
        return;
      }
      drain(body);
      tasks.succeed(Ref.of(t.ref()), TaskResults.encode(vms.stream().map(Ref::value).toList()));
      rc.response().end();
    } catch (Refused e) {
      body.discard();
      fail(rc, task, e);
    } catch (XenApiException e) {
      body.discard();
      fail(rc, task, Refused.of(e));
    } catch (RuntimeException e) {
      LOG.error("VM import failed unexpectedly", e);
      body.discard();
      fail(rc, task, new Refused(500, "INTERNAL_ERROR", String.valueOf(e)));
    }
  }

  /**
   * The body, where a client going away reads as the end of the stream (xapi reads its socket to an
   * end of file, hence IMPORT_ERROR_PREMATURE_EOF).
   */
  private static InputStream eofOnDisconnect(BodyPipe body) {
    return new FilterInputStream(body) {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        try {
          return super.read(b, off, len);
        } catch (IOException e) {
          if (!body.failed()) {
            throw e;
          }
          EOFException eof =
              new EOFException("the upload ended before the archive: " + e.getMessage());
          eof.initCause(e);
          throw eof;
        }
      }
    };
  }

  /** The sr_id (or sr_uuid) asked for, else the pool's default SR. */
  private Ref<Sr> targetSr(HttpServerRequest req) throws Refused, XenApiException {
    Ref<Sr> sr;
    if (req.getParam("sr_id") != null) {
      sr = Ref.of(req.getParam("sr_id"));
    } else if (req.getParam("sr_uuid") != null) {
      List<Ref<Sr>> l = db.where(Sr.UUID, req.getParam("sr_uuid"));
      sr = l.isEmpty() ? Ref.nullRef() : l.get(0);
    } else {
      sr = db.get(db.first(Pool.CLASS), Pool.DEFAULT_SR);
    }
    if (!db.exists(Sr.CLASS, sr)) {
      throw new Refused(404, "HANDLE_INVALID", "no SR " + sr.value());
    }
    return sr;
  }

  /** Reads what follows the last disk (tar end blocks, padding), then drops anything beyond. */
  private static void drain(BodyPipe body) {
    try {
      long n = 0;
      byte[] b = new byte[64 * 1024];
      int r;
      while (n < TRAILER_LIMIT_BYTES && (r = body.read(b)) > 0) {
        n += r;
      }
    } catch (IOException e) {
      LOG.debugf("upload ended abruptly after the archive's last disk: %s", e.getMessage());
    }
    body.discard();
  }

  private static void fail(RoutingContext rc, TransferTask t, Refused e) {
    if (t != null) {
      t.failure(e.code, e.getMessage());
    }
    HttpServerResponse r = rc.response();
    if (!r.ended() && !r.headWritten()) {
      r.setStatusCode(e.status)
          .putHeader("Content-Type", "text/plain")
          .putHeader("Connection", "close")
          .end(e.code + ": " + e.getMessage() + "\n");
    } else if (!r.ended()) {
      r.end();
    }
  }
}
