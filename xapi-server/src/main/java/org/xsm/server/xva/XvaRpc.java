package org.xsm.server.xva;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.DoubleConsumer;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.task.Tasks;

/**
 * {@code VM.import(session, url, sr, full_restore, force)}: as xapi_vm.ml {@code import}, the XVA
 * is fetched with an HTTP GET of {@code url} (http or https, redirects followed; https checks the
 * server's certificate against the JDK's trust store) and streamed into {@link XvaImporter}. The
 * import runs on a thread of its own, outside the call's unit of work, so what it makes is written
 * at once and a crash leaves it marked for {@link XvaRecovery}; the call waits for it.
 */
@ApplicationScoped
public class XvaRpc implements RpcModule {
  @Inject XvaImporter importer;
  @Inject Tasks tasks;

  private final HttpClient http =
      HttpClient.newBuilder()
          .followRedirects(HttpClient.Redirect.NORMAL)
          .connectTimeout(Duration.ofSeconds(30))
          .build();
  private final ExecutorService workers =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "xapi-vm-import");
            t.setDaemon(true);
            return t;
          });

  @Override
  public void register(Dispatcher d) {
    d.register(
        "VM.import",
        5,
        true,
        true,
        (c, a) -> {
          String url = Params.str(a, 0);
          Ref<Sr> sr = Params.ref(a, 1);
          boolean restore = Params.bool(a.get(2), "full_restore");
          boolean force = Params.bool(a.get(3), "force");
          String task = c.task() != null ? c.task() : "OpaqueRef:" + UUID.randomUUID();
          DoubleConsumer progress = tasks.progress(c);
          return importFrom(url, sr, restore, force, task, progress).stream()
              .map(Ref::value)
              .toList();
        });
  }

  List<Ref<Vm>> importFrom(
      String url, Ref<Sr> sr, boolean restore, boolean force, String task, DoubleConsumer progress)
      throws XenApiException {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new XenApiException(XenApiError.IMPORT_ERROR_GENERIC, "not a URL: " + url);
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
      throw new XenApiException(XenApiError.IMPORT_ERROR_GENERIC, "not an http(s) URL: " + url);
    }
    Future<List<Ref<Vm>>> f =
        workers.submit(
            () -> {
              HttpResponse<InputStream> r;
              try {
                r =
                    http.send(
                        HttpRequest.newBuilder(uri).GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
              } catch (IOException e) {
                throw new XenApiException(
                    XenApiError.IMPORT_ERROR_GENERIC,
                    "cannot fetch " + url + ": " + e.getMessage());
              }
              try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                  throw new XenApiException(
                      XenApiError.IMPORT_ERROR_GENERIC, "HTTP " + r.statusCode() + " from " + url);
                }
                return importer.importArchive(in, sr, restore, force, task, progress);
              }
            });
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof XenApiException x) {
        throw x;
      }
      throw new IllegalStateException("VM.import failed unexpectedly", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      f.cancel(true);
      throw new XenApiException(XenApiError.IMPORT_ERROR_GENERIC, "interrupted");
    }
  }
}
