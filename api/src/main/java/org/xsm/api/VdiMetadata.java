package org.xsm.api;

import java.time.Instant;

/**
 * The VDI fields xapi passes to the storage manager on create and update and that the SR keeps with
 * the data, so that a scan can re-introduce a VDI with its name and snapshot links.
 *
 * @param type {@code user}, {@code system}, {@code suspend}, ... ({@code cbt_metadata} is set by
 *     the SR after data destroy)
 * @param snapshotOf the UUID of the VDI this one is a snapshot of, or null
 * @param snapshotTime when the snapshot was taken, or null
 */
public record VdiMetadata(
    String nameLabel,
    String nameDescription,
    String type,
    boolean isASnapshot,
    String snapshotOf,
    Instant snapshotTime) {

  public static VdiMetadata named(String nameLabel) {
    return new VdiMetadata(nameLabel, "", "user", false, null, null);
  }
}
