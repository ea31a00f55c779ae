package org.xsm.server.nbd;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.xsm.api.VdiDevice;

/**
 * One exported device under one name. Closing it drops every connection to it; the device itself
 * stays the caller's to deactivate, after the export is closed.
 */
public final class NbdExport {
  private final String name;
  private final VdiDevice device;
  private final boolean readOnly;
  private final Set<NbdConnection> connections = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  NbdExport(String name, VdiDevice device, boolean readOnly) {
    this.name = name;
    this.device = device;
    this.readOnly = readOnly || device.readOnly();
  }

  public String name() {
    return name;
  }

  public VdiDevice device() {
    return device;
  }

  /** Writes are refused with {@code EPERM} (snapshots, base copies, read-only attachments). */
  public boolean readOnly() {
    return readOnly;
  }

  /** Open client connections. */
  public int connectionCount() {
    return connections.size();
  }

  /** Registers a connection; false (and the caller closes it) if the export is already closed. */
  boolean join(NbdConnection c) {
    connections.add(c);
    if (closed) {
      connections.remove(c);
      return false;
    }
    return true;
  }

  void leave(NbdConnection c) {
    connections.remove(c);
  }

  /** Stops new connections and closes the open ones (their in-flight requests fail). */
  void close() {
    closed = true;
    for (NbdConnection c : connections) {
      c.close();
    }
    connections.clear();
  }
}
