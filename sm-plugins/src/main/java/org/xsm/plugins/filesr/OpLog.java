package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.xsm.plugins.store.ImageStore;

/**
 * The log of one in-flight snapshot or clone, {@code .oplog-<leaf>}: which VDI, which new base copy
 * and which new child. It is written (durably) before the first change to the tree and deleted
 * after the last; while it exists the operation is unfinished, and recovery rolls it back ({@link
 * FileSr#recover}).
 *
 * <p>A batched snapshot ({@link BatchSnapshot}) keeps all its entries in one file, {@code
 * .oplog-batch-<id>} ({@link #writeBatch}), written and deleted the same way: recovery rolls back
 * every entry of a batch whose file remains, so a batch is all or nothing.
 */
record OpLog(String op, String leaf, String base, String child, String cbtSnapshot) {
  // base is null when the new VDI is a plain child of a read-only VDI.
  static final String PREFIX = ".oplog-";

  String fileName() {
    return PREFIX + leaf;
  }

  void write(ImageStore store) throws IOException {
    Map<String, String> m = new TreeMap<>();
    m.put("op", op);
    m.put("leaf", leaf);
    if (base != null) {
      m.put("base", base);
    }
    if (child != null) {
      m.put("child", child);
    }
    if (cbtSnapshot != null) {
      m.put("cbt-snapshot", cbtSnapshot);
    }
    PropertiesFile.write(store, fileName(), m);
  }

  void delete(ImageStore store) throws IOException {
    PropertiesFile.deleteIfExists(store, fileName());
  }

  static final String BATCH_PREFIX = PREFIX + "batch-";

  /**
   * Writes the entries of a batch to {@code fileName} (atomic and durable: {@link PropertiesFile}).
   */
  static void writeBatch(ImageStore store, String fileName, List<OpLog> entries)
      throws IOException {
    Map<String, String> m = new TreeMap<>();
    m.put("count", Integer.toString(entries.size()));
    for (int i = 0; i < entries.size(); i++) {
      OpLog e = entries.get(i);
      m.put(i + ".op", e.op);
      m.put(i + ".leaf", e.leaf);
      putIfSet(m, i + ".base", e.base);
      putIfSet(m, i + ".child", e.child);
      putIfSet(m, i + ".cbt-snapshot", e.cbtSnapshot);
    }
    PropertiesFile.write(store, fileName, m);
  }

  private static void putIfSet(Map<String, String> m, String key, String value) {
    if (value != null) {
      m.put(key, value);
    }
  }

  /** The entries of a log file, single or batch; empty if it does not exist. */
  static List<OpLog> readAll(ImageStore store, String fileName) throws IOException {
    Map<String, String> m = PropertiesFile.read(store, fileName);
    if (m == null) {
      return List.of();
    }
    if (!m.containsKey("count")) {
      return List.of(fromMap(m, ""));
    }
    int count = Integer.parseInt(m.get("count"));
    List<OpLog> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(fromMap(m, i + "."));
    }
    return out;
  }

  private static OpLog fromMap(Map<String, String> m, String p) {
    return new OpLog(
        m.get(p + "op"),
        m.get(p + "leaf"),
        m.get(p + "base"),
        m.get(p + "child"),
        m.get(p + "cbt-snapshot"));
  }

  static OpLog read(ImageStore store, String fileName) throws IOException {
    Map<String, String> m = PropertiesFile.read(store, fileName);
    if (m == null) {
      return null;
    }
    return new OpLog(
        m.get("op"), m.get("leaf"), m.get("base"), m.get("child"), m.get("cbt-snapshot"));
  }
}
