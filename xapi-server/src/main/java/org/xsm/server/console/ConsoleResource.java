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
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.session.Sessions;
import org.xsm.server.sr.SrService;
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
  @Inject org.xsm.server.rbac.Roles roles;
  @Inject SrService storage;
  @Inject SnapshotPreconditions preconditions;

  @GET
  @Path("/whoami")
  @Operation(
      summary = "The caller",
      description =
          "User name, role (one of xapi's six), whether it is the local superuser (who may do"
              + " everything), whether the role is read-only, and the role's permissions (xapi's"
              + " names, e.g. vm.start; empty for the superuser): the console disables what the"
              + " role may not do.")
  public Response whoami(
      @HeaderParam("Authorization") String authorization,
      @HeaderParam("X-XenAPI-Session") String session) {
    CallContext who = sessions.fromHttp(authorization, session);
    if (who == null) {
      return Response.status(401).entity(Map.of("error", "authentication required")).build();
    }
    return Response.ok(
            Map.of(
                "user",
                who.user(),
                "role",
                who.role().wire(),
                "superuser",
                who.superuser(),
                "read_only",
                who.readOnly(),
                "permissions",
                who.superuser() ? List.of() : roles.permissionNames(who.role())))
        .build();
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
    for (Ref<org.xsm.server.model.Sr> sr : db.all(org.xsm.server.model.Sr.CLASS)) {
      Map<String, Object> r = db.wireRecordOrNull(org.xsm.server.model.Sr.CLASS, sr.value());
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
    for (Ref<Vm> vm : db.fullScan(Vm.CLASS, r -> !r.get(Vm.IS_A_SNAPSHOT))) {
      try {
        SnapshotPreconditions.Blocker b = preconditions.check(vm);
        if (b != null) {
          out.put(db.get(vm, Vm.UUID), b.reason());
        }
      } catch (XenApiException e) {
        // destroyed while listing: nothing to say about it
      }
    }
    return Response.ok(out).build();
  }

  private Map<String, Object> srView(Ref<org.xsm.server.model.Sr> sr, Map<String, Object> r) {
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

  private List<Object> trees(Ref<org.xsm.server.model.Sr> sr) {
    Map<String, Node> byUuid = new LinkedHashMap<>();
    List<Ref<Vdi>> vdis;
    try {
      vdis = db.get(sr, org.xsm.server.model.Sr.VDIS);
    } catch (XenApiException e) {
      return List.of(); // forgotten while listing
    }
    for (Ref<Vdi> vdi : vdis) {
      Row<Vdi> d = db.readOrNull(Vdi.CLASS, vdi);
      if (d == null) {
        continue;
      }
      Map<String, Object> n = new LinkedHashMap<>();
      n.put("uuid", d.get(Vdi.UUID));
      n.put("name_label", d.get(Vdi.NAME_LABEL));
      n.put("base_copy", !d.get(Vdi.MANAGED));
      n.put("is_a_snapshot", d.get(Vdi.IS_A_SNAPSHOT));
      n.put("read_only", d.get(Vdi.READ_ONLY));
      n.put("type", d.get(Vdi.TYPE).wire());
      n.put("virtual_size", d.get(Vdi.VIRTUAL_SIZE));
      n.put("physical_utilisation", d.get(Vdi.PHYSICAL_UTILISATION));
      n.put("vms", vmsUsing(d));
      String parent = d.get(Vdi.SM_CONFIG).get("vhd-parent");
      byUuid.put(d.get(Vdi.UUID), new Node(n, parent));
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

  private List<String> vmsUsing(Row<Vdi> vdi) {
    List<String> names = new ArrayList<>();
    for (Ref<Vbd> vbd : vdi.get(Vdi.VBDS)) {
      Row<Vbd> b = db.readOrNull(Vbd.CLASS, vbd);
      Row<Vm> vm = b == null ? null : db.readOrNull(Vm.CLASS, b.get(Vbd.VM));
      if (vm != null) {
        names.add(vm.get(Vm.NAME_LABEL));
      }
    }
    return names;
  }
}
