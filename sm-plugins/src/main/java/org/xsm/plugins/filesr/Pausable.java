package org.xsm.plugins.filesr;

import java.io.IOException;

/**
 * A device to pause around a change of its VDI's chain: this host's ({@link VhdVdiDevice}) or
 * another host's ({@link Elsewhere}). {@link #resume()} is called for every device a pause was
 * tried on, even if the pause failed half-way, from the thread that paused it.
 */
interface Pausable {

  /** Stops I/O and closes the whole chain (the collector rewrites parents). */
  void pause() throws IOException;

  /** Stops I/O and closes the leaf only (a snapshot or clone renames the leaf and adds files). */
  void pauseKeepingParents() throws IOException;

  /** Reopens the VDI's (possibly new) chain and lets I/O go on. */
  void resume() throws IOException;
}
