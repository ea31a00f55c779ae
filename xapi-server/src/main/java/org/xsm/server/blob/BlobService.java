package org.xsm.server.blob;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.xsm.server.db.Database;
import org.xsm.server.model.Blob;
import org.xsm.server.model.Field;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Schema;
import org.xsm.server.model.Values;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Params;

/**
 * Blobs: a {@code blob} record (name, size, mime type, public, last_updated) and its bytes, which
 * the {@code /blob} HTTP handler reads and writes ({@link BlobRoutes}).
 *
 * <p>Durability: the bytes are a row of the server's database ({@link BlobContents}), written in a
 * transaction of its own before a PUT is answered; the record is written with its call. A crash
 * between {@code blob.create}'s content row and the end of its call leaves a row without a record,
 * which the next start deletes.
 */
@ApplicationScoped
public class BlobService {
  private static final Logger LOG = Logger.getLogger(BlobService.class);
  static final String DEFAULT_MIME_TYPE = "application/octet-stream";

  @Inject Database db;
  @Inject BlobContents contents;

  /**
   * {@code blob.create}: an empty blob, as xapi makes it (no name, size 0, last_updated the epoch;
   * an empty mime type is octet-stream).
   */
  public Ref<Blob> create(String mimeType, boolean isPublic, String owner) {
    Ref<Blob> ref =
        db.create(
            Blob.CLASS,
            Values.of(Blob.CLASS)
                .with(Blob.MIME_TYPE, mimeType.isEmpty() ? DEFAULT_MIME_TYPE : mimeType)
                .with(Blob.PUBLIC, isPublic)
                .with(Blob.SIZE, 0L)
                .with(Blob.LAST_UPDATED, Instant.EPOCH));
    contents.create(ref.value(), owner);
    return ref;
  }

  /**
   * {@code <class>.create_new_blob(self, name, mime_type, public)}: a new blob under {@code name}
   * in the object's {@code blobs} map; a name already there is {@code MAP_DUPLICATE_KEY} (xapi's
   * add_to_blobs), checked before anything is made.
   */
  public Ref<Blob> createFor(
      XClass<?> c, String objectRef, String name, String mimeType, boolean isPublic)
      throws XenApiException {
    if (db.classOf(objectRef) != c) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, c.name(), objectRef);
    }
    if (Params.map(db.wireField(c, objectRef, "blobs"), "blobs").containsKey(name)) {
      throw new XenApiException(XenApiError.MAP_DUPLICATE_KEY, c.name(), "blobs", objectRef, name);
    }
    Ref<Blob> blob = create(mimeType, isPublic, objectRef);
    changeBlobs(c, objectRef, m -> m.put(name, blob.value()));
    return blob;
  }

  /** {@code blob.destroy}: the record, its bytes, and its entry in its owner's map. */
  public void destroy(Ref<Blob> blob) throws XenApiException {
    db.read(Blob.CLASS, blob);
    String owner = contents.delete(blob.value());
    XClass<?> c = owner.isEmpty() ? null : db.classOf(owner);
    if (c != null) {
      changeBlobs(c, owner, m -> m.values().remove(blob.value()));
    }
    db.destroy(Blob.CLASS, blob);
  }

  @FunctionalInterface
  private interface MapChange {
    void apply(Map<String, String> blobs);
  }

  @SuppressWarnings("unchecked")
  private <C> void changeBlobs(XClass<C> c, String ref, MapChange change) throws XenApiException {
    Field<C, Map<String, String>> f = (Field<C, Map<String, String>>) c.field("blobs");
    db.modify(
        c,
        Ref.of(ref),
        row -> {
          Map<String, String> m = new LinkedHashMap<>(row.get(f));
          change.apply(m);
          return Values.of(c).with(f, m);
        });
  }

  /** The bytes of a blob ({@code HANDLE_INVALID} for an unknown one). */
  public byte[] read(Ref<Blob> blob) throws XenApiException {
    db.read(Blob.CLASS, blob);
    byte[] data = contents.data(blob.value());
    return data == null ? new byte[0] : data;
  }

  /** Replaces a blob's bytes; durable when this returns. */
  public void write(Ref<Blob> blob, byte[] data) throws XenApiException {
    db.read(Blob.CLASS, blob);
    contents.write(blob.value(), data);
    db.update(
        Blob.CLASS,
        blob,
        Values.of(Blob.CLASS)
            .with(Blob.SIZE, (long) data.length)
            .with(Blob.LAST_UPDATED, Instant.now()));
  }

  /** Whether a blob may be read without a session. */
  public boolean isPublic(Ref<Blob> blob) throws XenApiException {
    return db.get(blob, Blob.PUBLIC);
  }

  /** At start: content rows whose record a crash lost are deleted. */
  void onStart(
      @Observes
          @jakarta.annotation.Priority(jakarta.interceptor.Interceptor.Priority.APPLICATION + 900)
          StartupEvent ev) {
    List<String> orphans =
        contents.refs().stream().filter(r -> db.classOf(r) != Blob.CLASS).toList();
    if (!orphans.isEmpty()) {
      orphans.forEach(contents::delete);
      LOG.infof("deleted %d blob contents whose record was lost", orphans.size());
    }
  }

  /** The classes with {@code create_new_blob}. */
  static List<XClass<?>> owners() {
    return List.of(
        Schema.get("VM"),
        Schema.get("host"),
        Schema.get("network"),
        Schema.get("pool"),
        Schema.get("SR"));
  }
}
