package org.xsm.server.soak;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.xsm.plugins.filesr.VhdTree;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.vhd.Vhd;

/**
 * What must hold at the end of a soak (and is checked after the workers' own checks of every VDI's
 * bytes): the server's VDIs on the soak's SRs are exactly those the workers hold (none lost, none
 * left by a call that failed or got no answer and was not found); SR.scan changes no VDI; the VHD
 * files of the file-based SRs pass the VHD checker, and each is a VDI's or garbage the collector
 * deletes; the records' references point at records that exist.
 */
final class FinalChecks {
  private final Rpc rpc;
  private final String session;
  private final Stats stats;

  FinalChecks(Rpc rpc, String session, Stats stats) {
    this.rpc = rpc;
    this.session = session;
    this.stats = stats;
  }

  private Object call(String method, Object... params) throws Rpc.Failure, IOException {
    Object[] all = new Object[params.length + 1];
    all[0] = session;
    System.arraycopy(params, 0, all, 1, params.length);
    return rpc.call(method, all);
  }

  /** The managed VDIs of the SRs, by reference, as records. */
  private Map<String, Map<?, ?>> vdis(List<String> srs) throws Rpc.Failure, IOException {
    Map<String, Map<?, ?>> out = new TreeMap<>();
    for (Map.Entry<?, ?> e : ((Map<?, ?>) call("VDI.get_all_records")).entrySet()) {
      Map<?, ?> r = (Map<?, ?>) e.getValue();
      if (srs.contains(String.valueOf(r.get("SR"))) && Boolean.TRUE.equals(r.get("managed"))) {
        out.put(String.valueOf(e.getKey()), r);
      }
    }
    return out;
  }

  /**
   * The records' checks, with the server up; the VDIs it has after them (for {@link #files}, run
   * once the server is stopped and the collector with it).
   */
  Map<String, Map<?, ?>> records(List<Worker> workers, List<String> srs) throws Exception {
    Map<String, Disk> held = new HashMap<>();
    for (Worker w : workers) {
      held.putAll(w.known());
    }
    Map<String, Map<?, ?>> before = vdis(srs);
    for (String ref : held.keySet()) {
      if (!before.containsKey(ref)) {
        stats.inconsistency("VDI " + held.get(ref).uuid + " acknowledged but gone");
      }
    }
    for (Map.Entry<String, Map<?, ?>> e : before.entrySet()) {
      if (!held.containsKey(e.getKey())) {
        stats.inconsistency(
            "VDI "
                + e.getValue().get("uuid")
                + " ("
                + e.getValue().get("name_label")
                + ") exists but no acknowledged or found call made it");
      }
    }
    for (String sr : srs) {
      call("SR.scan", sr);
    }
    Map<String, Map<?, ?>> after = vdis(srs);
    if (!summary(after).equals(summary(before))) {
      stats.inconsistency("SR.scan changed the VDIs: " + summary(before) + " -> " + summary(after));
    }
    references();
    return after;
  }

  /** What a scan must not change of a VDI: its existence, size, kind and links. */
  private static Map<String, String> summary(Map<String, Map<?, ?>> vdis) {
    Map<String, String> out = new TreeMap<>();
    vdis.forEach(
        (ref, r) ->
            out.put(
                ref,
                r.get("uuid")
                    + " "
                    + r.get("virtual_size")
                    + " "
                    + r.get("is_a_snapshot")
                    + " "
                    + r.get("snapshot_of")
                    + " "
                    + r.get("location")
                    + " "
                    + r.get("type")));
    return out;
  }

  /** Every reference a VDI, VBD or PBD holds names a record that exists. */
  private void references() throws Rpc.Failure, IOException {
    Set<String> srs =
        ((Map<?, ?>) call("SR.get_all_records"))
            .keySet().stream().map(String::valueOf).collect(java.util.stream.Collectors.toSet());
    Map<?, ?> vdis = (Map<?, ?>) call("VDI.get_all_records");
    for (Map.Entry<?, ?> e : vdis.entrySet()) {
      Map<?, ?> r = (Map<?, ?>) e.getValue();
      if (!srs.contains(String.valueOf(r.get("SR")))) {
        stats.inconsistency("VDI " + r.get("uuid") + " names an SR that does not exist");
      }
      String of = String.valueOf(r.get("snapshot_of"));
      if (!of.equals("OpaqueRef:NULL") && !vdis.containsKey(of)) {
        stats.inconsistency("VDI " + r.get("uuid") + " is a snapshot of a VDI that does not exist");
      }
    }
  }

  /** The VHD files of a file-based SR: each passes the checker, each is a VDI's or garbage. */
  void files(Path dir, Map<String, Map<?, ?>> vdis) throws IOException {
    Set<String> locations = new HashSet<>();
    for (Map<?, ?> r : vdis.values()) {
      locations.add(String.valueOf(r.get("location")));
    }
    List<Path> srDirs = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.filter(p -> p.getFileName().toString().endsWith(".vhd"))
          .map(Path::getParent)
          .distinct()
          .forEach(srDirs::add);
    }
    for (Path srDir : srDirs) {
      LocalImageStore store = LocalImageStore.open(srDir);
      VhdTree tree = VhdTree.read(store);
      try (Stream<Path> list = Files.list(srDir)) {
        for (Path f : list.filter(p -> p.getFileName().toString().endsWith(".vhd")).toList()) {
          String name = f.getFileName().toString();
          List<String> problems = Vhd.check(store, name, false);
          if (!problems.isEmpty()) {
            stats.inconsistency("vhd check " + f + ": " + problems);
          }
          String uuid = name.substring(0, name.length() - ".vhd".length());
          VhdTree.Node n = tree.get(uuid);
          if (!locations.contains(uuid) && (n == null || !(n.hidden || tree.isGarbage(n)))) {
            stats.inconsistency("VHD file " + f + " belongs to no VDI and is not a base copy");
          }
        }
      }
    }
  }
}
