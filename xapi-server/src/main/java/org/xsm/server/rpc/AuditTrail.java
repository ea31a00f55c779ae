package org.xsm.server.rpc;

import java.util.List;

/**
 * Where the dispatcher reports what changes state (every write call, login attempts, refusals):
 * implemented by the audit log; {@code rpc} knows it only through this interface.
 */
public interface AuditTrail {
  /**
   * One call: who, from where, which message, the object references among its parameters (never
   * other values, which may be secrets), and the outcome ({@code success}, an error code, or {@code
   * task <ref>} for an Async call).
   */
  void record(CallContext caller, String source, String message, List<String> refs, String outcome);
}
