package org.xsm.api;

/**
 * A VDI activated on another host of a pool, as the SR master sees it. The SR master changes a
 * shared SR's tree (snapshots, clones, the collector's re-links) while other hosts have VDIs of it
 * active; before a change to such a VDI's chain it suspends the other host's device (its I/O waits,
 * its files are flushed and closed), and resumes it after (the chain is opened again from the
 * storage, so the other host sees the new tree). The server gives these to the SR ({@link
 * Sr#activeElsewhere}); each call reaches the other host and returns when it is done there.
 *
 * <p>Thread-safety: {@link #suspend()} and the {@link #resume()} that follows it are called from
 * one thread; distinct devices may be used from several.
 */
public interface RemoteDevice {

  /**
   * Holds the other host's I/O on the VDI and closes what it keeps open.
   *
   * @throws SmException if the other host could not be reached or failed to suspend (its device is
   *     then as it was: the change must not go ahead)
   */
  void suspend() throws SmException;

  /** Opens the VDI's (possibly new) chain on the other host and lets its I/O go on. */
  void resume() throws SmException;
}
