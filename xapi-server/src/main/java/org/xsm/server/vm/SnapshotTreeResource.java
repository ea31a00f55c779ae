package org.xsm.server.vm;

import jakarta.inject.Inject;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.session.Sessions;

/**
 * The snapshot tree of a VM for the admin console and scripts (beyond XenAPI): names, times, power
 * state at snapshot, parent/child links and the current snapshot; and deleting a snapshot alone,
 * with its descendants, its descendants only, or its metadata only. HTTP Basic authentication with
 * the server's local users, or a XenAPI session in {@code X-XenAPI-Session}; read-only users may
 * only read.
 */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "snapshots", description = "VM snapshot trees")
public class SnapshotTreeResource {
  @Inject Database db;
  @Inject Sessions sessions;
  @Inject org.xsm.server.rbac.Rbac rbac;
  @Inject VmRevert snapshots;

  /** Header with a XenAPI session reference, accepted instead of HTTP Basic. */
  public static final String SESSION_HEADER = "X-XenAPI-Session";

  /**
   * 401; the Basic challenge only when no session was sent, so a browser never pops up a password
   * prompt over the console when its session has expired.
   */
  static Response unauthorized(String session) {
    Response.ResponseBuilder r = Response.status(401);
    if (session == null) {
      r.header("WWW-Authenticate", "Basic realm=\"xsm\"");
    }
    return r.entity(Map.of("error", "authentication required")).build();
  }

  @GET
  @Path("/vms/{uuid}/snapshot-tree")
  @Operation(
      summary = "A VM's snapshot tree",
      description =
          "Roots and children as snapshot nodes (uuid, name, time, power state at snapshot,"
              + " current marker); 'current' is the VM's current snapshot (vm.parent).")
  public Response tree(
      @PathParam("uuid") String uuid,
      @HeaderParam("Authorization") String authorization,
      @HeaderParam(SESSION_HEADER) String session) {
    if (sessions.fromHttp(authorization, session) == null) {
      return unauthorized(session);
    }
    Ref<Vm> vm;
    try {
      vm = db.byUuid(Vm.CLASS, uuid);
    } catch (XenApiException e) {
      return Response.status(404).entity(Map.of("error", "no VM " + uuid)).build();
    }
    try {
      Ref<Vm> current = db.get(vm, Vm.PARENT);
      List<Ref<Vm>> snaps = db.get(vm, Vm.SNAPSHOTS);
      List<Object> roots = new ArrayList<>();
      for (Ref<Vm> s : snaps) {
        if (!snaps.contains(db.get(s, Vm.PARENT))) {
          roots.add(node(s, snaps, current));
        }
      }
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("vm", uuid);
      out.put("name", db.get(vm, Vm.NAME_LABEL));
      out.put("current", db.exists(Vm.CLASS, current) ? db.get(current, Vm.UUID) : null);
      out.put("roots", roots);
      return Response.ok(out).build();
    } catch (XenApiException e) {
      return Response.status(409).entity(Map.of("error", e.errorDescription())).build();
    }
  }

  private Map<String, Object> node(Ref<Vm> s, List<Ref<Vm>> all, Ref<Vm> current)
      throws XenApiException {
    Row<Vm> r = db.read(Vm.CLASS, s);
    Map<String, Object> n = new LinkedHashMap<>();
    n.put("uuid", r.get(Vm.UUID));
    n.put("name", r.get(Vm.NAME_LABEL));
    n.put("description", r.get(Vm.NAME_DESCRIPTION));
    n.put("time", String.valueOf(r.get(Vm.SNAPSHOT_TIME)));
    n.put("powerStateAtSnapshot", r.get(Vm.SNAPSHOT_INFO).get("power-state-at-snapshot"));
    n.put("checkpoint", r.get(Vm.POWER_STATE) == org.xsm.server.model.PowerState.SUSPENDED);
    n.put("current", s.equals(current));
    List<Object> kids = new ArrayList<>();
    for (Ref<Vm> c : r.get(Vm.CHILDREN)) {
      if (all.contains(c)) {
        kids.add(node(c, all, current));
      }
    }
    n.put("children", kids);
    return n;
  }

  @DELETE
  @Path("/snapshots/{uuid}")
  @Operation(
      summary = "Delete a snapshot",
      description =
          "mode=single (default): the snapshot alone, its children move to its parent;"
              + " with-descendants: it and everything below it; descendants-only: only what is"
              + " below it; metadata-only: the snapshot record, its disks are kept. Deleted"
              + " disks are reclaimed by the SR's garbage collector.")
  public Response delete(
      @PathParam("uuid") String uuid,
      @Parameter(
              schema =
                  @Schema(
                      type = SchemaType.STRING,
                      enumeration = {
                        "single",
                        "with-descendants",
                        "descendants-only",
                        "metadata-only"
                      }))
          @QueryParam("mode")
          @DefaultValue("single")
          String mode,
      @HeaderParam("Authorization") String authorization,
      @HeaderParam(SESSION_HEADER) String session) {
    CallContext who = sessions.fromHttp(authorization, session);
    if (who == null) {
      return unauthorized(session);
    }
    try {
      // Deleting a snapshot is VM.destroy (and VDI.destroy, the same roles) in XenAPI terms.
      rbac.check(who, "VM.destroy", List.of());
    } catch (XenApiException e) {
      return Response.status(403).entity(Map.of("error", e.errorDescription())).build();
    }
    db.beginCall();
    try {
      Ref<Vm> snap = db.byUuid(Vm.CLASS, uuid);
      if (!db.get(snap, Vm.IS_A_SNAPSHOT)) {
        return Response.status(400).entity(Map.of("error", uuid + " is not a snapshot")).build();
      }
      switch (mode) {
        case "single" -> snapshots.deleteSnapshot(snap, true);
        case "metadata-only" -> snapshots.deleteSnapshot(snap, false);
        case "with-descendants" -> snapshots.deleteSubtree(snap, true);
        case "descendants-only" -> snapshots.deleteSubtree(snap, false);
        default -> {
          return Response.status(400).entity(Map.of("error", "unknown mode " + mode)).build();
        }
      }
      return Response.noContent().build();
    } catch (XenApiException e) {
      int status = e.is(XenApiError.UUID_INVALID) ? 404 : 409;
      return Response.status(status).entity(Map.of("error", e.errorDescription())).build();
    } finally {
      db.endCall();
    }
  }
}
