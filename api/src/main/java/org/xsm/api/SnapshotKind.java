package org.xsm.api;

/**
 * How a VHD-tree snapshot is made (xapi's {@code driver_params:type}).
 *
 * <ul>
 *   <li>{@link #DOUBLE}: the current data becomes a hidden read-only base copy; the VDI keeps its
 *       UUID as a new writable leaf over it, and the snapshot is a second new leaf.
 *   <li>{@link #SINGLE}: the base copy itself is the snapshot (no second leaf).
 *   <li>{@link #INTERNAL}: like SINGLE, for the storage manager's own use (not a user VDI).
 * </ul>
 */
public enum SnapshotKind {
  DOUBLE,
  SINGLE,
  INTERNAL
}
