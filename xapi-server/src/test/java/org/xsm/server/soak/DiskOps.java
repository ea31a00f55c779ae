package org.xsm.server.soak;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A worker's operations on its disks, each over the worker's protocol, and how each is found out
 * after a call with no answer ({@link #reconcile}): a create by its unique name, a snapshot among
 * the disk's snapshots, a clone or copy by the unique name its source was given just before, a
 * resize by the size, a destroy by the reference; a write leaves the disk's bytes unknown until it
 * is written whole again.
 */
final class DiskOps {
  private final Worker w;
  private final Nbd nbd;

  /** The call in progress: what {@link #reconcile} needs to find its effect. */
  private Disk target;

  private String name;

  DiskOps(Worker w) {
    this.w = w;
    this.nbd = new Nbd(w);
  }

  private Object call(String method, Object... params) throws Rpc.Failure, IOException {
    Object[] all = new Object[params.length + 1];
    all[0] = w.session;
    System.arraycopy(params, 0, all, 1, params.length);
    return w.rpc.call(method, all);
  }

  private Disk any() {
    return w.disks.get(w.random.nextInt(w.disks.size()));
  }

  /** A disk with known bytes (one whose bytes are unknown is written whole first). */
  private Disk known() throws Rpc.Failure, IOException {
    Disk d = any();
    if (d.unknown) {
      writeWhole(d);
    }
    return d;
  }

  void run(String op) throws Rpc.Failure, IOException, InterruptedException {
    target = null;
    name = null;
    switch (op) {
      case "vdi.create" -> create();
      case "vdi.destroy" -> destroyDisk(any());
      case "import.raw" -> writeWhole(target = any());
      case "nbd.write" -> nbd.write(target = known());
      case "export.verify" -> verify(known(), "export");
      case "nbd.read" -> nbd.read(known());
      case "vdi.snapshot" -> snapshot(target = known());
      case "vdi.clone", "vdi.copy" -> copy(known(), op.equals("vdi.copy"));
      case "vdi.resize" -> resize(target = any());
      case "snapshot.destroy" -> destroySnapshot();
      case "cbt.changes" -> changedBlocks(known());
      default -> throw new IllegalArgumentException(op);
    }
  }

  // ---- the operations ----

  private void create() throws Rpc.Failure, IOException {
    String sr = w.srs.get(w.random.nextInt(w.srs.size()));
    name = w.freshName("disk");
    Map<String, Object> r = new HashMap<>();
    r.put("name_label", name);
    r.put("name_description", "");
    r.put("SR", sr);
    r.put("virtual_size", Worker.SIZE);
    r.put("type", "user");
    r.put("sharable", false);
    r.put("read_only", false);
    r.put("other_config", Map.of());
    r.put("xenstore_data", Map.of());
    r.put("sm_config", Map.of());
    r.put("tags", List.of());
    String ref = (String) call("VDI.create", r);
    adopt(ref, sr, Worker.SIZE, null);
  }

  private Disk adopt(String ref, String sr, long size, Disk from) throws Rpc.Failure, IOException {
    String uuid = (String) call("VDI.get_uuid", ref);
    Disk d =
        from == null ? new Disk(ref, uuid, sr, size, false) : from.copyAs(ref, uuid, sr, false);
    w.disks.add(d);
    d.resized(virtualSize(ref)); // an SR may round a size up: what is past the data reads as zeros
    return d;
  }

  private long virtualSize(String ref) throws Rpc.Failure, IOException {
    return Long.parseLong(String.valueOf(call("VDI.get_virtual_size", ref)));
  }

  void writeWhole(Disk d) throws Rpc.Failure, IOException {
    byte[] values = new byte[d.values.length];
    for (int b = 0; b < values.length; b++) {
      values[b] = w.random.nextInt(4) == 0 ? 0 : (byte) (1 + w.random.nextInt(255));
    }
    Disk next = d.copyAs(d.ref, d.uuid, d.sr, false);
    next.values = values;
    d.unknown = true; // until the server says it is written
    String task = (String) call("task.create", "soak import", "");
    IOException cut = null;
    try {
      w.http.put(w.session, d.ref, next.bytes(), task);
    } catch (IOException e) {
      cut = e; // the import's end is the task's: asked below if the server is still there
    }
    String status;
    try {
      status = String.valueOf(call("task.get_status", task));
    } catch (IOException e) {
      throw cut != null ? cut : e;
    }
    if (!status.equals("success")) {
      if (status.equals("pending")) {
        throw cut != null ? cut : new IOException("the import's task is still pending");
      }
      List<String> error = new ArrayList<>();
      for (Object o : (List<?>) call("task.get_error_info", task)) {
        error.add(String.valueOf(o));
      }
      call("task.destroy", task);
      throw new Rpc.Failure(error.isEmpty() ? List.of("IMPORT_FAILED") : error);
    }
    call("task.destroy", task);
    d.values = values;
    d.unknown = false;
  }

  void verify(Disk d, String when) throws Rpc.Failure, IOException {
    byte[] got = w.http.get(w.session, d.ref);
    int diff = d.firstDifference(got);
    if (diff != -1) {
      w.stats.inconsistency(
          String.format(
              "%s: VDI %s (%s%s) differs from what was acknowledged at block %s (%d bytes read)",
              when,
              d.uuid,
              d.snapshot ? "snapshot on " : "disk on ",
              w.kind(d.sr),
              diff,
              got.length));
    }
  }

  private void snapshot(Disk d) throws Rpc.Failure, IOException {
    if (d.snapshots.size() >= Worker.MAX_SNAPSHOTS) {
      destroy(d.snapshots.get(0), d.snapshots);
    }
    String ref = (String) call("VDI.snapshot", d.ref, Map.of());
    d.snapshots.add(d.copyAs(ref, (String) call("VDI.get_uuid", ref), d.sr, true));
  }

  private void copy(Disk d, boolean toOtherSr) throws Rpc.Failure, IOException {
    if (w.disks.size() >= Worker.MAX_DISKS) {
      destroyDisk(d == w.disks.get(0) ? w.disks.get(1) : w.disks.get(0));
    }
    name = w.freshName(toOtherSr ? "copied" : "cloned");
    call("VDI.set_name_label", d.ref, name);
    target = d;
    String sr = d.sr;
    String ref;
    if (toOtherSr) {
      List<String> others = new ArrayList<>(w.srs);
      others.remove(d.sr);
      sr = others.get(w.random.nextInt(others.size()));
      ref = (String) call("VDI.copy", d.ref, sr);
    } else {
      ref = (String) call("VDI.clone", d.ref, Map.of());
    }
    adopt(ref, sr, d.size, d);
  }

  private void resize(Disk d) throws Rpc.Failure, IOException {
    long to = d.size >= 4L << 20 ? d.size : d.size + (1L << 20);
    call("VDI.resize", d.ref, to);
    d.resized(virtualSize(d.ref));
  }

  /** Destroys a disk and its snapshots (each destroy acknowledged). */
  void destroyWithSnapshots(Disk d) throws Rpc.Failure, IOException {
    destroyDisk(d);
  }

  private void destroySnapshot() throws Rpc.Failure, IOException {
    for (Disk d : w.disks) {
      if (!d.snapshots.isEmpty()) {
        destroy(d.snapshots.get(0), d.snapshots);
        return;
      }
    }
  }

  private void destroyDisk(Disk d) throws Rpc.Failure, IOException {
    while (!d.snapshots.isEmpty()) {
      destroy(d.snapshots.get(0), d.snapshots);
    }
    destroy(d, w.disks);
  }

  private void destroy(Disk d, List<Disk> in) throws Rpc.Failure, IOException {
    target = d;
    call("VDI.destroy", d.ref);
    in.remove(d);
  }

  /**
   * CBT: enabled once, then snapshot A, a few blocks changed, snapshot B: the blocks
   * list_changed_blocks(A, B) names must include every block that changed.
   */
  private void changedBlocks(Disk d) throws Rpc.Failure, IOException {
    if (!d.cbt) {
      call("VDI.enable_cbt", d.ref);
      d.cbt = true;
    }
    snapshot(d);
    Disk a = d.snapshots.get(d.snapshots.size() - 1);
    byte[] before = d.values.clone();
    writeWhole(d);
    snapshot(d);
    Disk b = d.snapshots.get(d.snapshots.size() - 1);
    String bitmap = (String) call("VDI.list_changed_blocks", a.ref, b.ref);
    BitSet changed = BitSet.valueOf(Base64.getDecoder().decode(bitmap));
    for (int i = 0; i < before.length; i++) {
      // CBT's bitmap: a bit per 64 KiB block, most significant bit first in each byte.
      boolean marked = changed.get((i / 8) * 8 + (7 - i % 8));
      if (before[i] != d.values[i] && !marked) {
        w.stats.inconsistency(
            "list_changed_blocks of VDI "
                + d.uuid
                + " on "
                + w.kind(d.sr)
                + " misses changed block "
                + i);
        return;
      }
    }
  }

  // ---- after a call with no answer ----

  /** Finds out what the call in progress did; the model then holds it (or not). */
  void reconcile(String op) throws Rpc.Failure, IOException {
    switch (op) {
      case "vdi.create" -> {
        for (Object ref : (List<?>) call("VDI.get_by_name_label", name)) {
          adopt((String) ref, (String) call("VDI.get_SR", ref), Worker.SIZE, null);
        }
      }
      case "vdi.clone", "vdi.copy" -> {
        if (name == null || target == null) {
          return;
        }
        for (Object ref : (List<?>) call("VDI.get_by_name_label", name)) {
          if (!w.known().containsKey((String) ref)) {
            Disk made = adopt((String) ref, (String) call("VDI.get_SR", ref), target.size, target);
            // A copy the server died in the middle of is half-made (xapi leaves it too): its bytes
            // are unknown until written whole. A clone is made at once by the SR (journaled).
            made.unknown |= op.equals("vdi.copy");
          }
        }
      }
      case "vdi.snapshot", "cbt.changes" -> {
        for (Disk d : w.disks) {
          for (Object ref : (List<?>) call("VDI.get_snapshots", d.ref)) {
            if (!w.known().containsKey((String) ref)) {
              // A snapshot the call made of a disk whose bytes it did not change meanwhile.
              d.snapshots.add(
                  d.copyAs((String) ref, (String) call("VDI.get_uuid", ref), d.sr, true));
            }
          }
          d.cbt = (Boolean) call("VDI.get_cbt_enabled", d.ref);
        }
      }
      case "vdi.resize" -> {
        if (target != null) {
          target.resized(virtualSize(target.ref));
        }
      }
      case "vdi.destroy", "snapshot.destroy" -> dropGone();
      case "import.raw", "nbd.write" -> {
        if (target != null) {
          target.unknown = true;
        }
      }
      default -> {
        // read-only: nothing changed
      }
    }
  }

  /** Forgets the VDIs the server no longer has (a destroy that got no answer did happen). */
  private void dropGone() throws Rpc.Failure, IOException {
    for (Map.Entry<String, Disk> e : w.known().entrySet()) {
      try {
        call("VDI.get_uuid", e.getKey());
      } catch (Rpc.Failure f) {
        if (!f.code().equals("HANDLE_INVALID")) {
          throw f;
        }
        Disk gone = e.getValue();
        w.disks.remove(gone);
        for (Disk d : w.disks) {
          d.snapshots.remove(gone);
        }
      }
    }
  }
}
