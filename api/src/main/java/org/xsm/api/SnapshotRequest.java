package org.xsm.api;

import java.util.Objects;

/**
 * One VDI of a batched snapshot ({@link Sr#snapshotAll}): which VDI, which kind of snapshot, and
 * the new VDI's metadata, exactly as the arguments of {@link Sr#snapshot}.
 *
 * @param location the VDI to snapshot (its location on the SR)
 * @param kind how the snapshot is made; xapi's VM snapshot uses {@link SnapshotKind#DOUBLE}
 * @param metadata the new VDI's metadata, or null for the driver's default (as {@code snapshot})
 */
public record SnapshotRequest(String location, SnapshotKind kind, VdiMetadata metadata) {
  public SnapshotRequest {
    Objects.requireNonNull(location, "location");
    Objects.requireNonNull(kind, "kind");
  }
}
