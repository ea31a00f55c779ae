package org.xsm.plugins.conformance;

import java.io.IOException;

/**
 * Changes an SR's storage behind its driver's back, the way an operator or a crashed host would,
 * using only the backend's own knowledge of its layout. The kit calls these while the SR is
 * attached but the VDI concerned is detached, then checks that {@code Sr.scan()} notices.
 */
public interface SrBackdoor {

  /**
   * Copies the stored data of a VDI to a new VDI that the driver has never seen.
   *
   * @param location the detached VDI to copy (a leaf: it may have a parent, it has no children)
   * @param newUuid the UUID the copy must have
   * @return the copy's location, as {@code scan()} should report it
   */
  String copyVdiData(String location, String newUuid) throws IOException;

  /**
   * Removes the stored data of a VDI, as if it had been deleted without the driver.
   *
   * @param location a detached leaf VDI with no children
   */
  void removeVdiData(String location) throws IOException;
}
