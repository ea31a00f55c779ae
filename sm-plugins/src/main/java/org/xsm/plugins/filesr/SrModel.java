package org.xsm.plugins.filesr;

import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.image.ImageSummary;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.StoreEntry;

/**
 * The in-memory model of a VHD-tree SR: its tree of VHD files and every VDI's metadata, so that
 * operations on one VDI cost the same whatever the number of VDIs (no listing, no reading of other
 * VDIs' files).
 *
 * <p>Truth and staleness: the files on the store stay the only truth; this is a cache of them,
 * guarded by the SR lock. Each {@link FileSr} operation changes the files and then the model
 * ({@link #putVhd}, {@link #putMeta}, ...). Whatever changes the files without updating the model
 * (the garbage collector, a failed operation's rollback, crash recovery, other hosts on a shared
 * SR) makes it stale ({@link #invalidate}, see {@link TrackedStore}), and the next use rebuilds it
 * with {@link #refresh}. Scan and attach always rebuild. Nothing here is written to the store, so a
 * crash at any point loses only the cache; the next attach builds it from the files.
 *
 * <p>Rebuilding cheaply: {@link #refresh} lists the store with sizes and modification times ({@link
 * ImageStore#listEntries}) and rereads only the {@code .vhd} summaries and {@code .meta} files
 * whose entry differs from the one seen when they were last read. Files this SR writes itself are
 * recorded with the entry taken right after the write (one {@code stat}, under the SR lock), so a
 * scan after many creations rereads nothing. Limit, written down: a change made behind the driver's
 * back that keeps a file's size and lands within the storage's timestamp granularity of the
 * previous write to it is not seen until the SR is attached again; stores without modification
 * times ({@link StoreEntry#UNKNOWN_TIME}) reread every file at each rebuild.
 */
final class SrModel {
  /** A VDI's metadata file: the caller's metadata and the SR's read-only flag. */
  record Meta(VdiMetadata metadata, boolean readOnly) {}

  static final String READ_ONLY_KEY = "sm_read_only";

  private final ImageStore store;
  private final ModelCache cache = new ModelCache();
  private final Map<String, ModelCache.Cached<ModelCache.Summary>> vhdCache = cache.vhds;
  private final Map<String, ModelCache.Cached<Meta>> metaCache = cache.metas;
  private int rereads; // files read since the cache was last saved
  private VhdTree tree; // null: stale
  private Map<String, Meta> metas;
  private Set<String> cbtLogs; // UUIDs with a CBT log at the last refresh

  SrModel(ImageStore store) {
    this.store = store;
  }

  boolean stale() {
    return tree == null;
  }

  /** Forgets the model; the next use rebuilds it from the store. */
  void invalidate() {
    tree = null;
    metas = null;
    cbtLogs = null;
  }

  /** The live tree (rebuilt first if stale). Only under the SR lock; never hand it out. */
  VhdTree tree() throws IOException {
    if (tree == null) {
      refresh();
    }
    return tree;
  }

  /** A VDI's metadata file, or null if it has none. */
  Meta meta(String uuid) throws IOException {
    tree();
    return metas.get(uuid);
  }

  /** UUIDs that had a CBT log at the last {@link #refresh}. */
  Set<String> cbtLogsAtRefresh() {
    return cbtLogs == null ? Set.of() : cbtLogs;
  }

  /** Rebuilds the model from a listing of the store, rereading only files that changed. */
  void refresh() throws IOException {
    refresh(store.listEntries());
  }

  /** Rebuilds the model from {@code listing}, just taken, rereading only files that changed. */
  void refresh(List<StoreEntry> listing) throws IOException {
    invalidate();
    cache.loadOnce(store);
    Map<String, StoreEntry> entries = new HashMap<>();
    for (StoreEntry e : listing) {
      entries.put(e.name(), e);
    }
    Map<String, VhdTree.Node> nodes = new TreeMap<>();
    Map<String, Meta> newMetas = new HashMap<>();
    Set<String> cbt = new HashSet<>();
    for (StoreEntry e : entries.values()) {
      String name = e.name();
      if (VhdTree.isImageName(name)) {
        ImageFormat f = ImageFormat.ofFileName(name).orElseThrow();
        String uuid = VhdTree.stem(name, f);
        boolean pending = f.recoveryFile(name).map(entries::containsKey).orElse(false);
        ModelCache.Summary s = summary(e, f, pending);
        nodes.put(
            uuid,
            VhdTree.node(uuid, f, s.parentUuid(), s.hidden(), s.virtualSizeBytes(), e.sizeBytes()));
      } else if (name.endsWith(".meta") && VhdTree.UUID.matcher(stem(name, ".meta")).matches()) {
        Meta m = metaFile(e);
        if (m != null) {
          newMetas.put(stem(name, ".meta"), m);
        }
      } else if (name.endsWith(".cbtlog")) {
        cbt.add(stem(name, ".cbtlog"));
      }
    }
    vhdCache.keySet().retainAll(entries.keySet());
    metaCache.keySet().retainAll(entries.keySet());
    tree = VhdTree.linked(nodes);
    metas = newMetas;
    cbtLogs = cbt;
    if (rereads >= SAVE_AFTER_REREADS) {
      saveCache();
    }
  }

  /** After this many files read, a rebuild saves the cache for the next attach. */
  private static final int SAVE_AFTER_REREADS = 1000;

  /**
   * Saves what was read for the next attach ({@link ModelCache}); a failure only costs rereads
   * then, so it is logged, not thrown. Called at detach and after rebuilds that read many files.
   */
  void saveCache() {
    try {
      cache.save(store);
      rereads = 0;
    } catch (IOException | RuntimeException e) {
      System.getLogger(SrModel.class.getName())
          .log(
              System.Logger.Level.WARNING,
              "could not save the SR model cache " + store.describe(ModelCache.FILE),
              e);
    }
  }

  private ModelCache.Summary summary(StoreEntry e, ImageFormat f, boolean pendingUndo)
      throws IOException {
    ModelCache.Cached<ModelCache.Summary> c = vhdCache.get(e.name());
    if (!pendingUndo && c != null && e.sameVersionAs(c.entry())) {
      return c.value();
    }
    // Footer and header only: a summary costs three small reads whatever the disk size.
    rereads++;
    ImageSummary v = f.summary(store, e.name());
    ModelCache.Summary s =
        new ModelCache.Summary(VhdTree.parentOf(v), v.hidden(), v.virtualSizeBytes());
    // An undo journal was just rolled back by the read: the entry no longer describes the file.
    vhdCache.put(e.name(), new ModelCache.Cached<>(pendingUndo ? null : e, s));
    return s;
  }

  private Meta metaFile(StoreEntry e) throws IOException {
    ModelCache.Cached<Meta> c = metaCache.get(e.name());
    if (c != null && e.sameVersionAs(c.entry())) {
      return c.value();
    }
    rereads++;
    Map<String, String> m = PropertiesFile.read(store, e.name());
    if (m == null) {
      return null; // deleted since the listing
    }
    Meta meta = parse(m);
    metaCache.put(e.name(), new ModelCache.Cached<>(e, meta));
    return meta;
  }

  private static String stem(String name, String suffix) {
    return name.substring(0, name.length() - suffix.length());
  }

  // ---- changes made by the SR's own operations (after the files are durable) ----

  /**
   * Records a VHD file the SR just wrote, with what it holds: its entry (size, mtime) is read from
   * the store (one stat).
   */
  void putVhd(
      String uuid, ImageFormat format, String parentUuid, boolean hidden, long virtualSizeBytes)
      throws IOException {
    if (tree == null) {
      return; // rebuilt from the files at the next use
    }
    String file = VhdTree.fileOf(uuid, format);
    StoreEntry e = store.entry(file);
    vhdCache.put(
        file,
        new ModelCache.Cached<>(e, new ModelCache.Summary(parentUuid, hidden, virtualSizeBytes)));
    tree.put(VhdTree.node(uuid, format, parentUuid, hidden, virtualSizeBytes, e.sizeBytes()));
  }

  void removeVhd(String uuid) {
    for (ImageFormat f : ImageFormat.values()) {
      vhdCache.remove(VhdTree.fileOf(uuid, f));
    }
    if (tree != null) {
      tree.remove(uuid);
    }
  }

  /** Records a metadata file the SR just wrote (one stat, for the rebuild cache). */
  void putMeta(String uuid, Meta meta) throws IOException {
    String file = FileSr.metaFileOf(uuid);
    metaCache.put(file, new ModelCache.Cached<>(store.entry(file), meta));
    if (metas != null) {
      metas.put(uuid, meta);
    }
  }

  void removeMeta(String uuid) {
    metaCache.remove(FileSr.metaFileOf(uuid));
    if (metas != null) {
      metas.remove(uuid);
    }
  }

  // ---- the metadata file format ----

  static Meta parse(Map<String, String> m) {
    String t = m.get("snapshot_time");
    VdiMetadata md =
        new VdiMetadata(
            m.getOrDefault("name_label", ""),
            m.getOrDefault("name_description", ""),
            m.getOrDefault("type", "user"),
            Boolean.parseBoolean(m.get("is_a_snapshot")),
            m.get("snapshot_of"),
            t == null ? null : Instant.parse(t));
    return new Meta(md, Boolean.parseBoolean(m.get(READ_ONLY_KEY)));
  }

  static Map<String, String> format(VdiMetadata meta, boolean readOnly) {
    Map<String, String> m = new TreeMap<>();
    m.put(READ_ONLY_KEY, Boolean.toString(readOnly));
    m.put("name_label", meta.nameLabel() == null ? "" : meta.nameLabel());
    m.put("name_description", meta.nameDescription() == null ? "" : meta.nameDescription());
    m.put("type", meta.type() == null ? "user" : meta.type());
    m.put("is_a_snapshot", Boolean.toString(meta.isASnapshot()));
    if (meta.snapshotOf() != null) {
      m.put("snapshot_of", meta.snapshotOf());
    }
    if (meta.snapshotTime() != null) {
      m.put("snapshot_time", meta.snapshotTime().toString());
    }
    return m;
  }
}
