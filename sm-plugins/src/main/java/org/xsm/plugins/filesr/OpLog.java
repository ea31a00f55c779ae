package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import org.xsm.plugins.store.ImageStore;

/**
 * The log of one in-flight snapshot or clone, {@code .oplog-<leaf>}: which VDI, which new base copy
 * and which new child. It is written (durably) before the first change to the tree and deleted
 * after the last; while it exists the operation is unfinished, and recovery rolls it back ({@link
 * FileSr#recover}).
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

  static OpLog read(ImageStore store, String fileName) throws IOException {
    Map<String, String> m = PropertiesFile.read(store, fileName);
    if (m == null) {
      return null;
    }
    return new OpLog(
        m.get("op"), m.get("leaf"), m.get("base"), m.get("child"), m.get("cbt-snapshot"));
  }
}
