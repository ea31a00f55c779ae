package org.xsm.server.nbd;

import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;
import org.xsm.api.SmException;

/**
 * Guest I/O held at the block layer for a point-in-time switch (a live snapshot of a running
 * domain's disks): {@link NbdService#holdLocal} first flushes each export's device while the guest
 * runs on (so the switch has little left to write), then holds new requests on every export
 * (requests in progress finish first; new ones wait, none fails) until {@link #close()}. The hold
 * is measured from the moment new requests stop being served to the release: no request of the
 * guest waited longer than {@link #heldNanos()}.
 *
 * <p>Holds and releases on the calling thread (the exports' locks are that thread's).
 */
public final class IoHold implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(IoHold.class);

  /** No export held (the VDIs are not exported to a domain). */
  static final IoHold NONE = new IoHold(List.of(), "");

  private final List<NbdExport> held = new ArrayList<>();
  private final String what;
  private long start;
  private long heldNanos = -1;

  private IoHold(List<NbdExport> exports, String what) {
    this.what = what;
    if (exports.isEmpty()) {
      return;
    }
    for (NbdExport e : exports) {
      try {
        e.device().flush();
      } catch (SmException ex) {
        // The switch flushes again under the hold; this one only shortens it.
        LOG.warnf(ex, "flush of export %s before its hold", e.name());
      }
    }
    start = System.nanoTime();
    for (NbdExport e : exports) {
      e.hold();
      held.add(e);
    }
  }

  static IoHold of(List<NbdExport> exports, String what) {
    return exports.isEmpty() ? NONE : new IoHold(exports, what);
  }

  /** Whether any export is held. */
  public boolean holdsAny() {
    return !held.isEmpty();
  }

  /** How long new requests were held (known after {@link #close()}; -1 before or if none). */
  public long heldNanos() {
    return heldNanos;
  }

  /** Releases every export; held requests go on. */
  @Override
  public void close() {
    if (held.isEmpty() || heldNanos >= 0) {
      return;
    }
    for (NbdExport e : held) {
      e.release();
    }
    heldNanos = System.nanoTime() - start;
    LOG.infof("guest I/O held %.3f ms for %s (%d export(s))", heldNanos / 1e6, what, held.size());
  }
}
