package org.xsm.server.audit;

import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.xsm.server.model.StaticRole;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.session.Sessions;

/** The latest audit entries, for pool-admins (the console's audit view). */
@Path("/api/audit")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "console", description = "Views for the admin console")
public class AuditResource {
  @Inject Sessions sessions;
  @Inject AuditLog audit;

  @GET
  @Operation(
      summary = "Audit trail",
      description =
          "The latest write calls, logins, refusals and transfers (newest last): time, user, role,"
              + " source address, message, object references, outcome. Pool-admins only.")
  public Response recent(
      @HeaderParam("Authorization") String authorization,
      @HeaderParam("X-XenAPI-Session") String session,
      @QueryParam("limit") @DefaultValue("200") int limit) {
    CallContext who = sessions.fromHttp(authorization, session);
    if (who == null) {
      return Response.status(401).entity(Map.of("error", "authentication required")).build();
    }
    if (!who.superuser() && who.role() != StaticRole.POOL_ADMIN) {
      return Response.status(403)
          .entity(Map.of("error", "RBAC_PERMISSION_DENIED: the audit trail is for pool-admins"))
          .build();
    }
    return Response.ok(audit.recent(Math.max(1, Math.min(limit, AuditLog.RECENT)))).build();
  }
}
