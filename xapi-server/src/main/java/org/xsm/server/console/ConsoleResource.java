package org.xsm.server.console;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.xsm.api.GcBacklog;
import org.xsm.api.GcCounters;
import org.xsm.api.Sr;
import org.xsm.server.db.Database;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.rpc.XenApiException;
import org.xsm.server.session.Sessions;
import org.xsm.server.storage.StorageService;
import org.xsm.server.vm.SnapshotPreconditions;

/**
 * What the admin console shows beyond XenAPI records: each SR's VHD trees (leaves, snapshots and
 * the hidden base copies holding shared blocks, with chain depth and sizes) and its garbage
 * collector's state, and why a VM can't be snapshotted. Read-only; a XenAPI session in {@code
 * X-XenAPI-Session} or HTTP Basic, any role.
 */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "console", description = "Views for the admin console")
public class ConsoleResource {
  @Inject Database db;
  @Inject Sessions sessions;
  @Inject StorageService storage;
  @Inject SnapshotPreconditions preconditions;

  @GET
  @Path("/whoami")
  @Operation(
      summary = "The caller",
      description = "User name and whether the role is read-only (the console disables changes).")
  public Response whoami(
      @HeaderParam("Authorization") String authorization,
      @HeaderParam("X-XenAPI-Session") String session) {
    CallContext who = sessions.fromHttp(authorization, session);
    if (who == null) {
      return Response.status(401).entity(Map.of("error", "authentication required")).build();
    }
    return Response.ok(Map.of("user", who.user(), "read_only", who.readOnly())).build();
  }

  @GET
  @Path("/srs")
  @Operation(
      summary = "Every SR with its VDI trees and GC state",
      description =
          "Per SR: uuid, name, type, sizes, the garbage collector's status, step progress and"
              + " counters, and its VDIs as trees by VHD parent (hidden base copies included),"
              + " each node with chain depth, sizes and the VMs using it.")
  public Response srs(
      @HeaderParam("Authorization") String authorization,
      @HeaderParam("X-XenAPI-Session") String session) {
    if (sessions.fromHttp(authorization, session) == null) {
      return Response.status(401).entity(Map.of("error", "authentication required")).build();
    }
    List<Object> out = new ArrayList<>();
    for (String sr : db.all("SR")) {
      Map<String, Object> r = db.recordOrNull("SR", sr);
      if (r != null) {
        out.add(srView(sr, r));
      }
    }
    return Response.ok(out).build();
  }

  @GET
  @Path("/vms/snapshot-blockers")
  @Operation(
      summary = "Why VMs can't be snapshotted",
      description =
          "A map from VM uuid to a sentence saying why VM.snapshot would be refused; VMs that"
              + " can be snapshotted are left out. Snapshots themselves are not listed.")
  public Response snapshotBlockers(
      @HeaderParam("Authorization") String authorization,
      @HeaderParam("X-XenAPI-Session") String session) {
    if (sessions.fromHttp(authorization, session) == null) {
      return Response.status(401).entity(Map.of("error", "authentication required")).build();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String vm : db.find("VM", f -> !Boolean.TRUE.equals(f.get("is_a_snapshot")))) {
      try {
        SnapshotPreconditions.Blocker b = preconditions.check(vm);
        if (b != null) {
          out.put((String) db.field("VM", vm, "uuid"), b.reason());
        }
      } catch (XenApiException e) {
        // destroyed while listing: nothing to say about it
      }
    }
    return Response.ok(out).build();
  }

  private Map<String, Object> srView(String sr, Map<String, Object> r) {
    Map<String, Object> v = new LinkedHashMap<>();
    for (String k :
        List.of(
            "uuid",
            "name_label",
            "type",
            "physical_size",
            "physical_utilisation",
            "virtual_allocation",
            "shared")) {
      v.put(k, r.get(k));
    }
    Sr attached = storage.attachedSrs().get(sr);
    Map<String, Object> gc = new LinkedHashMap<>();
    gc.put("status", attached == null ? "not attached" : attached.gcStatus());
    gc.put("step_progress", attached == null ? -1 : attached.gcStepProgress());
    gc.put("counters", gcCounters(attached == null ? GcCounters.NONE : attached.gcCounters()));
    gc.put("backlog", gcBacklog(attached == null ? GcBacklog.NONE : attached.gcBacklog()));
    v.put("gc", gc);
    v.put("trees", trees(sr));
    return v;
  }

  private static Map<String, Object> gcCounters(GcCounters c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("runs", c.runs());
    m.put("garbage_deleted", c.garbageDeleted());
    m.put("coalesced", c.coalesced());
    m.put("leaf_coalesced", c.leafCoalesced());
    m.put("bytes_copied", c.bytesCopied());
    m.put("no_space", c.noSpace());
    m.put("longest_pause_ms", c.longestPauseMillis());
    return m;
  }

  private static Map<String, Object> gcBacklog(GcBacklog b) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("reclaimable_bytes", b.reclaimableBytes());
    m.put("backlog_bytes", b.backlogBytes());
    m.put("chains", b.chains());
    m.put("garbage_files", b.garbageFiles());
    m.put("longest_chain", b.longestChain());
    m.put("eta_seconds", b.etaSeconds());
    return m;
  }

  /** A VDI as a tree node, before its children are known. */
  private record Node(Map<String, Object> view, String parentUuid) {}

  private List<Object> trees(String sr) {
    Map<String, Node> byUuid = new LinkedHashMap<>();
    for (String vdi : db.find("VDI", f -> sr.equals(f.get("SR")))) {
      Map<String, Object> d = db.recordOrNull("VDI", vdi);
      if (d == null) {
        continue;
      }
      Map<String, Object> n = new LinkedHashMap<>();
      n.put("uuid", d.get("uuid"));
      n.put("name_label", d.get("name_label"));
      n.put("base_copy", !Boolean.TRUE.equals(d.get("managed")));
      n.put("is_a_snapshot", d.get("is_a_snapshot"));
      n.put("read_only", d.get("read_only"));
      n.put("type", d.get("type"));
      n.put("virtual_size", d.get("virtual_size"));
      n.put("physical_utilisation", d.get("physical_utilisation"));
      n.put("vms", vmsUsing(vdi));
      Object sm = d.get("sm_config");
      String parent = sm instanceof Map<?, ?> m ? (String) m.get("vhd-parent") : null;
      byUuid.put((String) d.get("uuid"), new Node(n, parent));
    }
    Map<String, List<Map<String, Object>>> children = new HashMap<>();
    List<Map<String, Object>> roots = new ArrayList<>();
    for (Node n : byUuid.values()) {
      if (n.parentUuid() != null && byUuid.containsKey(n.parentUuid())) {
        children.computeIfAbsent(n.parentUuid(), k -> new ArrayList<>()).add(n.view());
      } else {
        roots.add(n.view());
      }
    }
    roots.sort(Comparator.comparing(m -> String.valueOf(m.get("name_label"))));
    for (Map<String, Object> root : roots) {
      link(root, children, 1);
    }
    return new ArrayList<>(roots);
  }

  private static void link(
      Map<String, Object> n, Map<String, List<Map<String, Object>>> children, int depth) {
    n.put("chain_depth", depth);
    List<Map<String, Object>> kids = children.getOrDefault((String) n.get("uuid"), List.of());
    for (Map<String, Object> k : kids) {
      link(k, children, depth + 1);
    }
    n.put("children", kids);
  }

  private List<String> vmsUsing(String vdi) {
    List<String> names = new ArrayList<>();
    for (String vbd : db.find("VBD", f -> vdi.equals(f.get("VDI")))) {
      Map<String, Object> b = db.recordOrNull("VBD", vbd);
      Map<String, Object> vm = b == null ? null : db.recordOrNull("VM", (String) b.get("VM"));
      if (vm != null) {
        names.add((String) vm.get("name_label"));
      }
    }
    return names;
  }
}
