package org.xsm.server.blob;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;

/** {@code blob.create}, {@code blob.destroy} and {@code <class>.create_new_blob}. */
@ApplicationScoped
public class BlobRpc implements RpcModule {
  @Inject BlobService blobs;

  @Override
  public void register(Dispatcher d) {
    // Both forms of the SDK 8.1.0: (mime_type) and (mime_type, public); public is false if absent.
    d.register(
        "blob.create",
        -1,
        true,
        true,
        (ctx, a) -> {
          arity("blob.create", a, 1, 2);
          return blobs.create(Params.str(a, 0), isPublic(a, 1), "").value();
        });
    d.register(
        "blob.destroy",
        2,
        true,
        true,
        (ctx, a) -> {
          blobs.destroy(Params.ref(a, 0));
          return "";
        });
    for (XClass<?> c : BlobService.owners()) {
      d.register(
          c.name() + ".create_new_blob",
          -1,
          true,
          true,
          (ctx, a) -> {
            arity(c.name() + ".create_new_blob", a, 3, 4);
            return blobs
                .createFor(c, Params.str(a, 0), Params.str(a, 1), Params.str(a, 2), isPublic(a, 3))
                .value();
          });
    }
  }

  private static boolean isPublic(List<Object> a, int i) throws XenApiException {
    return a.size() > i && Params.bool(a.get(i), "public");
  }

  /** The parameter count check of a message with an optional last parameter. */
  private static void arity(String name, List<Object> a, int min, int max) throws XenApiException {
    if (a.size() < min || a.size() > max) {
      throw new XenApiException(
          XenApiError.MESSAGE_PARAMETER_COUNT_MISMATCH,
          name,
          String.valueOf(max),
          String.valueOf(a.size()));
    }
  }
}
