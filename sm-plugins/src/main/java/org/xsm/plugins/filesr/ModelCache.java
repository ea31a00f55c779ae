package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.StoreEntry;

/**
 * What {@link SrModel} learnt from reading the SR's files, by file name with the entry (size,
 * mtime) each was read at, kept in memory and saved on the SR as {@code .xsm-model-cache} so that
 * the first scan after an attach need not read every file again.
 *
 * <p>A cache, never a truth: every entry is used only while the listed file still has the same size
 * and modification time, so a cache file that is old, from another host, or missing costs rereads,
 * not errors. Crash safety: saved like every small file of the SR ({@link PropertiesFile}: temp
 * file, force, rename, directory sync), so a crash leaves the previous cache or the new one; a file
 * that does not parse is ignored (and replaced at the next save).
 */
final class ModelCache {
  static final String FILE = ".xsm-model-cache";
  private static final String FORMAT = "1";

  /** A VHD's identity as the tree needs it. */
  record Summary(String parentUuid, boolean hidden, long virtualSizeBytes) {}

  /** A value read from a file, with the entry of the file it was read from (null: unknown). */
  record Cached<T>(StoreEntry entry, T value) {}

  final Map<String, Cached<Summary>> vhds = new HashMap<>();
  final Map<String, Cached<SrModel.Meta>> metas = new HashMap<>();
  private boolean loaded;

  /** Loads the saved cache once (the first rebuild after attach); a bad file is ignored. */
  void loadOnce(ImageStore store) {
    if (loaded) {
      return;
    }
    loaded = true;
    try {
      Map<String, String> p = PropertiesFile.read(store, FILE);
      if (p != null && FORMAT.equals(p.get("format"))) {
        parse(p);
      }
    } catch (IOException | RuntimeException e) {
      vhds.clear();
      metas.clear();
      System.getLogger(ModelCache.class.getName())
          .log(
              System.Logger.Level.WARNING,
              "ignoring the SR model cache " + store.describe(FILE),
              e);
    }
  }

  private void parse(Map<String, String> p) {
    Map<String, Map<String, String>> metaValues = new HashMap<>();
    for (Map.Entry<String, String> e : p.entrySet()) {
      String k = e.getKey();
      if (k.startsWith("k.")) {
        int cut = k.indexOf(".meta.") + ".meta".length();
        metaValues
            .computeIfAbsent(k.substring(2, cut), n -> new TreeMap<>())
            .put(k.substring(cut + 1), e.getValue());
      }
    }
    for (Map.Entry<String, String> e : p.entrySet()) {
      String k = e.getKey();
      String[] f = e.getValue().split(" ");
      if (k.startsWith("v.")) {
        String name = k.substring(2);
        StoreEntry entry = new StoreEntry(name, Long.parseLong(f[0]), Long.parseLong(f[1]));
        String parent = f[4].equals("-") ? null : f[4];
        Summary s = new Summary(parent, f[2].equals("1"), Long.parseLong(f[3]));
        vhds.put(name, new Cached<>(entry, s));
      } else if (k.startsWith("m.")) {
        String name = k.substring(2);
        StoreEntry entry = new StoreEntry(name, Long.parseLong(f[0]), Long.parseLong(f[1]));
        metas.put(
            name, new Cached<>(entry, SrModel.parse(metaValues.getOrDefault(name, Map.of()))));
      }
    }
  }

  /** Saves the entries whose file entry is known (durable: {@link PropertiesFile#write}). */
  void save(ImageStore store) throws IOException {
    Map<String, String> p = new TreeMap<>();
    p.put("format", FORMAT);
    for (Map.Entry<String, Cached<Summary>> e : vhds.entrySet()) {
      StoreEntry en = e.getValue().entry();
      Summary s = e.getValue().value();
      if (known(en)) {
        p.put(
            "v." + e.getKey(),
            en.sizeBytes()
                + " "
                + en.modifiedNanos()
                + " "
                + (s.hidden() ? "1" : "0")
                + " "
                + s.virtualSizeBytes()
                + " "
                + (s.parentUuid() == null ? "-" : s.parentUuid()));
      }
    }
    for (Map.Entry<String, Cached<SrModel.Meta>> e : metas.entrySet()) {
      StoreEntry en = e.getValue().entry();
      if (known(en)) {
        p.put("m." + e.getKey(), en.sizeBytes() + " " + en.modifiedNanos());
        SrModel.Meta m = e.getValue().value();
        for (Map.Entry<String, String> kv : SrModel.format(m.metadata(), m.readOnly()).entrySet()) {
          p.put("k." + e.getKey() + "." + kv.getKey(), kv.getValue());
        }
      }
    }
    PropertiesFile.write(store, FILE, p);
  }

  private static boolean known(StoreEntry e) {
    return e != null && e.modifiedNanos() != StoreEntry.UNKNOWN_TIME;
  }
}
