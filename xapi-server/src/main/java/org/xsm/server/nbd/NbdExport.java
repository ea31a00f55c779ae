package org.xsm.server.nbd;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.xsm.api.VdiDevice;

/**
 * One exported device under one name. Closing it drops every connection to it and waits for their
 * requests in progress; the device itself stays the caller's to deactivate, after the export is
 * closed.
 *
 * <p>The guarantee {@link NbdServer#unexport} gives rests on two rules kept here: a connection
 * joins under the export's monitor, which refuses it once the export is closed, so no connection
 * can join after {@link #close()} has collected the members; and every device access of a
 * connection runs inside {@link #beginIo()}/{@link #endIo()} (a read lock), which {@link #close()}
 * takes exclusively once, after setting {@code closed}: when it returns, no access is running and
 * none can start.
 */
public final class NbdExport {
  private final String name;
  private volatile VdiDevice device;
  private final boolean readOnly;
  private final Set<NbdConnection> connections = new HashSet<>(); // guarded by this
  private final ReadWriteLock io = new ReentrantReadWriteLock();
  private boolean closed; // guarded by this; also read under io's read lock
  private final java.util.concurrent.atomic.LongAdder bytesRead =
      new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder bytesWritten =
      new java.util.concurrent.atomic.LongAdder();

  /** Detaches an on-demand export's device once (null for an export its owner ends). */
  private Runnable detach; // guarded by this

  private final boolean onDemand;

  NbdExport(String name, VdiDevice device, boolean readOnly) {
    this(name, device, readOnly, null);
  }

  /** An export made for a client; {@code detach} runs once after it is closed. */
  NbdExport(String name, VdiDevice device, boolean readOnly, Runnable detach) {
    this.name = name;
    this.device = device;
    this.readOnly = readOnly || device.readOnly();
    this.detach = detach;
    this.onDemand = detach != null;
  }

  /** Whether the device was attached for a client, and is detached when the last one leaves. */
  public boolean onDemand() {
    return onDemand;
  }

  /** Runs the on-demand detach, once; call after {@link #close()}. */
  void detachOnDemand() {
    Runnable d;
    synchronized (this) {
      d = detach;
      detach = null;
    }
    if (d != null) {
      d.run();
    }
  }

  public String name() {
    return name;
  }

  public VdiDevice device() {
    return device;
  }

  /**
   * Serves another device from now on (a disk moved to another SR): only while the export is held
   * ({@link IoHold}), so no request is between the two devices.
   */
  void replaceDevice(VdiDevice next) {
    if (!((ReentrantReadWriteLock) io).isWriteLockedByCurrentThread()) {
      throw new IllegalStateException("export " + name + " is not held by this thread");
    }
    device = next;
  }

  /** Writes are refused with {@code EPERM} (snapshots, base copies, read-only attachments). */
  public boolean readOnly() {
    return readOnly;
  }

  /** Counts the bytes of a served read or write (the statistics' disk I/O). */
  void counted(long read, long written) {
    bytesRead.add(read);
    bytesWritten.add(written);
  }

  /** Bytes read from the device through this export so far. */
  public long bytesRead() {
    return bytesRead.sum();
  }

  /** Bytes written to the device through this export so far. */
  public long bytesWritten() {
    return bytesWritten.sum();
  }

  /** Connections that chose this export (from just before their handshake reply on). */
  public synchronized int connectionCount() {
    return connections.size();
  }

  /** Registers a connection; false (the caller answers "no such export") once closed. */
  synchronized boolean join(NbdConnection c) {
    if (closed) {
      return false;
    }
    connections.add(c);
    return true;
  }

  synchronized void leave(NbdConnection c) {
    connections.remove(c);
  }

  /**
   * Starts one device access of a connection; false once the export is closed (the request then
   * fails without touching the device). Pair with {@link #endIo()}.
   */
  boolean beginIo() {
    io.readLock().lock(); // waits while the export is held (IoHold) or being closed
    boolean open;
    synchronized (this) {
      open = !closed;
    }
    if (!open) {
      io.readLock().unlock();
    }
    return open;
  }

  void endIo() {
    io.readLock().unlock();
  }

  /**
   * Holds new requests (they wait, they do not fail) once those in progress have finished; the
   * calling thread must {@link #release()} it. Closing the export waits for the release.
   */
  void hold() {
    io.writeLock().lock();
  }

  /** Lets the requests held by {@link #hold()} go on. */
  void release() {
    io.writeLock().unlock();
  }

  /**
   * Refuses new connections, closes the open ones (their queued requests fail) and returns once no
   * request of theirs is touching the device.
   */
  void close() {
    List<NbdConnection> members;
    synchronized (this) {
      closed = true;
      members = List.copyOf(connections);
      connections.clear();
    }
    // Sockets first: a worker blocked writing a reply to a client that does not read fails now
    // instead of holding its read lock.
    for (NbdConnection c : members) {
      c.close();
    }
    io.writeLock().lock();
    io.writeLock().unlock();
  }
}
