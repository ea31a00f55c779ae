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
 * Deleting a VDI that other VDIs read through (the clones of a snapshot): its file becomes a hidden
 * base copy under a fresh UUID, and its children are re-linked to the new name.
 *
 * <p>Journal {@code .hide-<uuid>} (old UUID, new UUID, children), then: hide, rename (the commit
 * point), re-link each child, delete the old metadata, delete the journal. Recovery: if the old
 * file still exists the delete had not happened, so it is unhidden again; otherwise the re-links
 * are finished. Devices below the node are paused while their chain changes.
 */
final class HiddenRename {
  private static final String PREFIX = ".hide-";

  private HiddenRename() {}

  static void run(FileSr sr, VhdTree.Node n) throws IOException, SmException {
    String fresh = UUID.randomUUID().toString();
    List<String> children = new ArrayList<>();
    for (VhdTree.Node c : n.children()) {
      children.add(c.uuid);
    }
    Map<String, String> j = new TreeMap<>();
    j.put("old", n.uuid);
    j.put("new", fresh);
    j.put("children", String.join(",", children));
    String journal = PREFIX + n.uuid;
    List<VhdVdiDevice> paused = sr.pauseDescendants(children);
    try {
      PropertiesFile.write(sr.store, journal, j);
      n.format.setHidden(sr.store, n.file(), true);
      sr.store.rename(n.file(), VhdTree.fileOf(fresh, n.format));
      sr.store.syncMetadata();
      finish(sr, n.uuid, fresh, children, journal);
    } finally {
      for (VhdVdiDevice d : paused) {
        d.resume();
      }
    }
  }

  private static void finish(
      FileSr sr, String old, String fresh, List<String> children, String journal)
      throws IOException, SmException {
    for (String c : children) {
      VhdTree.Node cn = sr.tree().get(c);
      if (cn != null && old.equals(cn.parentUuid)) {
        cn.format.setParent(sr.store, cn.file(), VhdTree.existingFile(sr.store, fresh));
      }
    }
    PropertiesFile.deleteIfExists(sr.store, FileSr.metaFileOf(old));
    PropertiesFile.deleteIfExists(sr.store, CbtLog.fileOf(old));
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
        finish(sr, old, j.get("new"), kids.isEmpty() ? List.of() : List.of(kids.split(",")), name);
      }
    }
  }
}
