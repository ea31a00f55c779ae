package org.xsm.server.pool;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.xsm.server.domain.DomainException;
import org.xsm.server.domain.DomainSpec;
import org.xsm.server.domain.Domains;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * A host's agent: what the master asks of the host holding a VM ({@link RemoteDomains}), run on
 * this host's own {@link Domains}. Called only in pool sessions (the pool secret's), on a member as
 * on a master (roles change).
 */
@ApplicationScoped
public class PoolAgent {
  static final String CREATE = "host.xsm_domain_create";
  static final String CONTROL = "host.xsm_domain_control";
  static final String MIGRATE_IN = "host.xsm_domain_migrate_in";
  static final String MIGRATE_OUT = "host.xsm_domain_migrate_out";
  static final String MIGRATE_FINISH = "host.xsm_domain_migrate_finish";
  static final List<String> MESSAGES =
      List.of(CREATE, CONTROL, MIGRATE_IN, MIGRATE_OUT, MIGRATE_FINISH);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What {@link #CONTROL} does to a domain. */
  enum Control {
    PAUSE,
    UNPAUSE,
    SHUTDOWN,
    DESTROY,
    EXISTS
  }

  @Inject Domains domains;
  @Inject AgentVdis vdis;

  void create(String specJson, boolean paused) throws XenApiException {
    DomainSpec spec = vdis.localize(parse(specJson));
    try {
      domains.create(spec, paused, Optional.empty());
    } catch (DomainException e) {
      throw new XenApiException(XenApiError.INTERNAL_ERROR, e.getMessage());
    }
  }

  Object control(String vmUuid, String op, long timeoutSeconds) throws XenApiException {
    Control c;
    try {
      c = Control.valueOf(op);
    } catch (IllegalArgumentException e) {
      throw new XenApiException(XenApiError.INVALID_VALUE, "op", op);
    }
    try {
      switch (c) {
        case PAUSE -> domains.pause(vmUuid);
        case UNPAUSE -> domains.unpause(vmUuid);
        case SHUTDOWN -> domains.shutdown(vmUuid, Duration.ofSeconds(timeoutSeconds));
        case DESTROY -> domains.destroy(vmUuid);
        case EXISTS -> {
          return domains.exists(vmUuid);
        }
      }
    } catch (DomainException e) {
      if (e.reason() == DomainException.Reason.SHUTDOWN_TIMEOUT) {
        throw new XenApiException(XenApiError.VM_SHUTDOWN_TIMEOUT, vmUuid, "" + timeoutSeconds);
      }
      throw new XenApiException(XenApiError.INTERNAL_ERROR, e.getMessage());
    }
    return "";
  }

  private static DomainSpec parse(String specJson) throws XenApiException {
    try {
      return JSON.readValue(specJson, DomainSpec.class);
    } catch (IOException e) {
      throw new XenApiException(XenApiError.INVALID_VALUE, "spec", e.getMessage());
    }
  }

  private static XenApiException failed(DomainException e) {
    return new XenApiException(XenApiError.INTERNAL_ERROR, e.getMessage());
  }

  /** Destination: a domain waiting for the stream; where it listens ("host:port"). */
  String migrateIn(String specJson) throws XenApiException {
    try {
      Domains.IncomingMigration in = domains.prepareIncoming(vdis.localize(parse(specJson)));
      return in.endpoint().host() + ":" + in.endpoint().port();
    } catch (DomainException e) {
      throw failed(e);
    }
  }

  /** Source: the domain streamed to {@code host:port}; what it took, in xapi-style strings. */
  java.util.Map<String, String> migrateOut(String vmUuid, String endpoint, long downtimeMs)
      throws XenApiException {
    int colon = endpoint.lastIndexOf(':');
    try {
      Domains.MigrationResult r =
          domains.migrateOut(
              vmUuid,
              new Domains.MigrationEndpoint(
                  endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1))),
              Duration.ofMillis(downtimeMs));
      return java.util.Map.of(
          "downtime_ms", Long.toString(r.downtime().toMillis()),
          "total_ms", Long.toString(r.total().toMillis()),
          "bytes", Long.toString(r.bytesTransferred()),
          "was_running", Boolean.toString(r.wasRunning()));
    } catch (DomainException e) {
      throw failed(e);
    }
  }

  /** Destination: the stream is complete; the domain runs (unless paused). */
  void migrateFinish(String vmUuid, boolean paused, long timeoutSeconds) throws XenApiException {
    try {
      domains.finishIncoming(vmUuid, paused, Duration.ofSeconds(timeoutSeconds));
    } catch (DomainException e) {
      throw failed(e);
    }
  }
}
