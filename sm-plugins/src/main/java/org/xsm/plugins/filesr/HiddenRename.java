package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.xsm.api.SmException;
import org.xsm.plugins.image.ImageFormat;

/**
 * Deleting a VDI that other VDIs read through (the clones of a snapshot), or destroying its data
 * ({@code VDI.data_destroy}): its file becomes a hidden base copy under a fresh UUID, and its
 * children are re-linked to the new name. This is where sm's FileSR is after the same call, whose
 * VDIs are always leaves over hidden base copies: the VDI's own file goes, the clones keep reading
 * the base copy, and the GC coalesces it later.
 *
 * <p>Journal {@code .hide-<uuid>} (old UUID, new UUID, children, whether the VDI's record stays),
 * then: hide, rename (the commit point), re-link each child, delete the old metadata and CBT log
 * (kept by a data destroy: the VDI lives on as {@code cbt_metadata}), delete the journal. Recovery:
 * if the old file still exists the operation had not happened, so it is unhidden again; otherwise
 * the re-links are finished. Devices below the node are paused while their chain changes.
 */
final class HiddenRename {
  private static final String PREFIX = ".hide-";

  private HiddenRename() {}

  /** Deleting the VDI: its metadata and CBT log go too. */
  static void run(FileSr sr, VhdTree.Node n) throws IOException, SmException {
    run(sr, n, false);
  }

  /**
   * @param keepRecord whether the VDI's metadata and CBT log stay (a data destroy)
   */
  static void run(FileSr sr, VhdTree.Node n, boolean keepRecord) throws IOException, SmException {
    String fresh = UUID.randomUUID().toString();
    List<String> children = new ArrayList<>();
    for (VhdTree.Node c : n.children()) {
      children.add(c.uuid);
    }
    Map<String, String> j = new TreeMap<>();
    j.put("old", n.uuid);
    j.put("new", fresh);
    j.put("children", String.join(",", children));
    j.put("keep", Boolean.toString(keepRecord));
    String journal = PREFIX + n.uuid;
    List<Pausable> paused = sr.pauseDescendants(children);
    try {
      PropertiesFile.write(sr.store, journal, j);
      n.format.setHidden(sr.store, n.file(), true);
      sr.store.rename(n.file(), VhdTree.fileOf(fresh, n.format));
      sr.store.syncMetadata();
      finish(sr, n.uuid, fresh, children, keepRecord, journal);
    } finally {
      for (Pausable d : paused) {
        d.resume();
      }
    }
  }

  private static void finish(
      FileSr sr,
      String old,
      String fresh,
      List<String> children,
      boolean keepRecord,
      String journal)
      throws IOException, SmException {
    for (String c : children) {
      VhdTree.Node cn = sr.tree().get(c);
      if (cn != null && old.equals(cn.parentUuid)) {
        cn.format.setParent(sr.store, cn.file(), VhdTree.existingFile(sr.store, fresh));
      }
    }
    if (!keepRecord) {
      PropertiesFile.deleteIfExists(sr.store, FileSr.metaFileOf(old));
      PropertiesFile.deleteIfExists(sr.store, CbtLog.fileOf(old));
    }
    PropertiesFile.deleteIfExists(sr.store, journal);
  }

  static void recover(FileSr sr) throws IOException, SmException {
    for (String name : sr.store.list()) {
      if (!name.startsWith(PREFIX) || name.endsWith(".tmp")) {
        continue;
      }
      Map<String, String> j = PropertiesFile.read(sr.store, name);
      String old = j.get("old");
      String oldFile = VhdTree.existingFile(sr.store, old);
      if (sr.store.exists(oldFile)) {
        ImageFormat.ofFileName(oldFile).orElseThrow().setHidden(sr.store, oldFile, false);
        PropertiesFile.deleteIfExists(sr.store, name);
      } else {
        String kids = j.getOrDefault("children", "");
        finish(
            sr,
            old,
            j.get("new"),
            kids.isEmpty() ? List.of() : List.of(kids.split(",")),
            Boolean.parseBoolean(j.get("keep")),
            name);
      }
    }
  }
}
