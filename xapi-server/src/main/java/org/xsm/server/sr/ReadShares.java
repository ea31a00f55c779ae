package org.xsm.server.sr;

import java.util.HashMap;
import java.util.Map;
import org.xsm.api.VdiDevice;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.XenApiException;

/**
 * Read-only activations shared by their readers: the first reader of a VDI attaches and activates
 * it read-only, later readers use the same device, and the last one to leave deactivates it. This
 * is how xapi lets several read-only users hold one VDI (an NBD client reading a snapshot while the
 * same snapshot is exported over HTTP, as Xen Orchestra does between two steps of a backup):
 * without sharing, the second reader would fail with {@code VDI_IN_USE} until the first one's
 * release had run, which depends on when the server notices a client's disconnect.
 *
 * <p>A writer (a VM, an import) still excludes readers and the reverse: the plugin refuses a second
 * attach. A VDI's entry stays in the table until its deactivation has finished, so a reader that
 * arrives during the last release waits for it and activates afresh, never racing the plugin.
 */
public final class ReadShares {
  /** Activates and deactivates for real. */
  interface Activations {
    VdiDevice activate(Ref<Vdi> vdi) throws XenApiException;

    void deactivate(Ref<Vdi> vdi) throws XenApiException;
  }

  private final Activations activations;

  /** Entries by VDI; guarded by itself. An entry's device is guarded by the entry. */
  private final Map<Ref<Vdi>, Entry> entries = new HashMap<>();

  ReadShares(Activations activations) {
    this.activations = activations;
  }

  private static final class Entry {
    int readers; // guarded by the table
    VdiDevice device; // guarded by this entry
  }

  /** One reader's hold on a shared read-only device; closing it releases the hold once. */
  public static final class Lease implements AutoCloseable {
    private final ReadShares shares;
    private final Ref<Vdi> vdi;
    private final Entry entry;
    private boolean closed;

    private Lease(ReadShares shares, Ref<Vdi> vdi, Entry entry) {
      this.shares = shares;
      this.vdi = vdi;
      this.entry = entry;
    }

    /** The VDI's device, read-only; valid until this lease is closed. Not to be closed by users. */
    public VdiDevice device() {
      synchronized (entry) {
        return entry.device;
      }
    }

    @Override
    public synchronized void close() throws XenApiException {
      if (!closed) {
        closed = true;
        shares.release(vdi, entry);
      }
    }
  }

  Lease acquire(Ref<Vdi> vdi) throws XenApiException {
    Entry e;
    synchronized (entries) {
      e = entries.computeIfAbsent(vdi, k -> new Entry());
      e.readers++;
    }
    synchronized (e) {
      if (e.device == null) {
        try {
          e.device = activations.activate(vdi);
        } catch (XenApiException | RuntimeException x) {
          synchronized (entries) {
            if (--e.readers == 0) {
              entries.remove(vdi, e);
            }
          }
          throw x;
        }
      }
    }
    return new Lease(this, vdi, e);
  }

  private void release(Ref<Vdi> vdi, Entry e) throws XenApiException {
    synchronized (e) {
      boolean last;
      synchronized (entries) {
        last = --e.readers == 0;
      }
      if (!last || e.device == null) {
        return;
      }
      e.device = null;
      try {
        activations.deactivate(vdi);
      } finally {
        synchronized (entries) {
          if (e.readers == 0) {
            entries.remove(vdi, e);
          }
        }
      }
    }
  }

  /** How many readers hold the VDI now (for tests and the log). */
  int readers(Ref<Vdi> vdi) {
    synchronized (entries) {
      Entry e = entries.get(vdi);
      return e == null ? 0 : e.readers;
    }
  }
}
