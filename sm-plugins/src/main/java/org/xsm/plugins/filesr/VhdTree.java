package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.xsm.plugins.image.ImageFormat;
import org.xsm.plugins.image.ImageSummary;
import org.xsm.plugins.store.ImageStore;

/**
 * The tree of image files of a VDI-tree SR, read from the store: the one model that the SR
 * operations and the garbage collector share. Nodes are named by UUID and format ({@code
 * <uuid>.vhd} or {@code <uuid>.qcow2}); a tree is of one format (children are made in their
 * parent's).
 */
public final class VhdTree {
  static final Pattern UUID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  /** One image file of the SR. */
  public static final class Node {
    public final String uuid;
    public final ImageFormat format;
    public final String parentUuid;
    public final boolean hidden;
    public final long virtualSizeBytes;
    public final long physicalSizeBytes;
    final List<Node> children = new ArrayList<>();
    Node parent;

    Node(
        String uuid,
        ImageFormat format,
        String parentUuid,
        boolean hidden,
        long virtual,
        long physical) {
      this.uuid = uuid;
      this.format = format;
      this.parentUuid = parentUuid;
      this.hidden = hidden;
      this.virtualSizeBytes = virtual;
      this.physicalSizeBytes = physical;
    }

    /** The node's file name in the store. */
    public String file() {
      return fileOf(uuid, format);
    }

    public Node parent() {
      return parent;
    }

    public List<Node> children() {
      return List.copyOf(children);
    }

    public boolean isLeaf() {
      return children.isEmpty();
    }

    /** Files from this node to the root, this one included. */
    public int depth() {
      int d = 1;
      for (Node n = parent; n != null; n = n.parent) {
        d++;
      }
      return d;
    }
  }

  private final Map<String, Node> nodes;

  private VhdTree(Map<String, Node> nodes) {
    this.nodes = nodes;
  }

  static String fileOf(String uuid, ImageFormat format) {
    return uuid + format.extension();
  }

  /** Whether a store file name is a node of an SR ({@code <uuid>.vhd}, {@code <uuid>.qcow2}). */
  static boolean isImageName(String name) {
    return ImageFormat.ofFileName(name)
        .map(f -> UUID.matcher(stem(name, f)).matches())
        .orElse(false);
  }

  /** The UUID part of a node's file name. */
  static String stem(String name, ImageFormat f) {
    return name.substring(0, name.length() - f.extension().length());
  }

  /**
   * The file of node {@code uuid}, whichever format exists (for recovery, which works from the
   * files, not the model); the VHD name when neither does.
   */
  static String existingFile(ImageStore store, String uuid) throws IOException {
    for (ImageFormat f : ImageFormat.values()) {
      if (store.exists(fileOf(uuid, f))) {
        return fileOf(uuid, f);
      }
    }
    return fileOf(uuid, ImageFormat.VHD);
  }

  /**
   * Reads every node file of the store.
   *
   * @throws IOException naming the first file that does not open as a valid image
   */
  public static VhdTree read(ImageStore store) throws IOException {
    Map<String, Node> nodes = new TreeMap<>();
    for (String name : store.list()) {
      if (!isImageName(name)) {
        continue;
      }
      ImageFormat f = ImageFormat.ofFileName(name).orElseThrow();
      String uuid = stem(name, f);
      // Headers only: listing the tree must not cost a block table per file.
      ImageSummary v = f.summary(store, name);
      nodes.put(
          uuid,
          new Node(uuid, f, parentOf(v), v.hidden(), v.virtualSizeBytes(), v.fileSizeBytes()));
    }
    return linked(nodes);
  }

  /** A tree of fresh nodes (no links yet), linked by their parent UUIDs. */
  static VhdTree linked(Map<String, Node> nodes) {
    for (Node n : nodes.values()) {
      if (n.parentUuid != null) {
        n.parent = nodes.get(n.parentUuid);
        if (n.parent != null) {
          n.parent.children.add(n);
        }
      }
    }
    return new VhdTree(new LinkedHashMap<>(nodes));
  }

  /** A node not yet in a tree. */
  static Node node(
      String uuid,
      ImageFormat format,
      String parentUuid,
      boolean hidden,
      long virtual,
      long physical) {
    return new Node(uuid, format, parentUuid, hidden, virtual, physical);
  }

  /** An independent copy, for a caller that reads it outside the SR lock (the GC). */
  VhdTree copy() {
    Map<String, Node> fresh = new TreeMap<>();
    for (Node n : nodes.values()) {
      fresh.put(
          n.uuid,
          new Node(
              n.uuid, n.format, n.parentUuid, n.hidden, n.virtualSizeBytes, n.physicalSizeBytes));
    }
    return linked(fresh);
  }

  /**
   * Adds {@code n} (fresh, unlinked) or replaces the node of its UUID, keeping that node's children
   * under the new one. Linked to its parent when the parent is in the tree. Costs no I/O: the
   * in-memory SR model ({@link SrModel}) changes the tree with this as operations go.
   */
  void put(Node n) {
    Node old = nodes.remove(n.uuid);
    if (old != null) {
      if (old.parent != null) {
        old.parent.children.remove(old);
      }
      for (Node c : old.children) {
        c.parent = n;
        n.children.add(c);
      }
    }
    nodes.put(n.uuid, n);
    if (n.parentUuid != null) {
      n.parent = nodes.get(n.parentUuid);
      if (n.parent != null) {
        n.parent.children.add(n);
      }
    }
  }

  /** Removes a node; its children, if any, are left without a parent node. */
  void remove(String uuid) {
    Node old = nodes.remove(uuid);
    if (old == null) {
      return;
    }
    if (old.parent != null) {
      old.parent.children.remove(old);
    }
    for (Node c : old.children) {
      c.parent = null;
    }
  }

  /** The UUID of an image's parent (from its parent file name), or null. */
  static String parentOf(ImageSummary v) {
    if (v.parentFile().isEmpty()) {
      return null;
    }
    String p = v.parentFile().get();
    return ImageFormat.ofFileName(p).map(f -> stem(p, f)).orElse(p);
  }

  public Node get(String uuid) {
    return nodes.get(uuid);
  }

  public Collection<Node> nodes() {
    return nodes.values();
  }

  /** Hidden leaves and the hidden nodes left with only hidden descendants: what GC may delete. */
  public boolean isGarbage(Node n) {
    if (!n.hidden) {
      return false;
    }
    for (Node c : n.children) {
      if (!isGarbage(c)) {
        return false;
      }
    }
    return true;
  }
}
