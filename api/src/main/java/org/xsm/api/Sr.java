package org.xsm.api;

import java.util.List;

/**
 * An attached SR and the VDI operations on it. VDIs are named by their {@code location} (for
 * VHD-tree SRs, the VDI's UUID).
 *
 * <p>Thread-safety: all methods may be called from several threads. Operations that must not
 * interleave on one SR (those that change its tree of VDIs) are serialized by the implementation;
 * different SRs work in parallel. I/O on activated devices does not wait for them, except for the
 * short pause of a snapshot or clone of that VDI ({@link Capability#ATOMIC_PAUSE}).
 *
 * <p>Durability: when a method returns, its effect on the SR is durable. If the host crashes during
 * one, the next {@link SmDriver#attach} or {@link #scan} rolls it back or finishes it; no VDI is
 * lost or changed by a half-done operation.
 *
 * <p>Operations not in the driver's {@link DriverInfo#capabilities()} fail with {@link
 * SmException#unsupported} ({@link SmError#UNIMPLEMENTED}, "This driver does not support X").
 */
public interface Sr {

  /** The SR's UUID. */
  String uuid();

  /**
   * Detaches the SR ({@code sr_detach}); the object is unusable afterwards.
   *
   * @throws SmException {@link SmError#SR_IN_USE} if VDIs are still attached
   */
  void detach() throws SmException;

  /**
   * Lists the SR's VDIs as the storage holds them now ({@code sr_scan}), including files added or
   * removed behind the driver's back. Hidden nodes are listed with {@code managed=false}; garbage
   * (hidden leaves) is not listed.
   */
  List<VdiInfo> scan() throws SmException;

  /** Space figures ({@code sr_update} / SR stats). */
  SrStats stats() throws SmException;

  /**
   * Cumulative garbage-collector counters of this attachment, for metrics. {@link GcCounters#NONE}
   * for SRs without a collector. Thread-safe; never blocks.
   */
  default GcCounters gcCounters() {
    return GcCounters.NONE;
  }

  /**
   * What the garbage collector still has to do (reclaimable space, bytes to copy, chains, an ETA),
   * as last measured: at the SR's latest {@link #stats}, {@link #scan} or collector step. {@link
   * GcBacklog#NONE} for SRs without a collector. Thread-safe; never blocks and does no I/O.
   */
  default GcBacklog gcBacklog() {
    return GcBacklog.NONE;
  }

  /**
   * What the garbage collector is doing now, in words, for operators: {@code "idle"} when it has
   * nothing to do, {@code "none"} for SRs without a collector. Thread-safe; never blocks.
   */
  default String gcStatus() {
    return "none";
  }

  /**
   * How far the collector's current long step (a coalesce) has got, from 0 to 1, or a negative
   * number when no such step is running. Thread-safe; never blocks.
   */
  default double gcStepProgress() {
    return -1;
  }

  /**
   * Sets who hears of the collector's long steps (coalesces): called on the collector's thread with
   * the fraction done (0 to 1) as a step goes, then with a negative number when it ends (finished,
   * failed or aborted). The listener must be quick; what it throws is ignored. Null removes it. SRs
   * without a collector ignore this.
   */
  default void setGcProgressListener(java.util.function.DoubleConsumer listener) {}

  /** Re-reads the SR's state from the storage ({@code sr_update}). */
  default void update() throws SmException {
    throw SmException.unsupported("SR update");
  }

  /**
   * Creates an empty VDI ({@code vdi_create}) of at least {@code sizeBytes}.
   *
   * @throws SmException {@link SmError#VDI_SIZE} for a size out of range, {@link
   *     SmError#SR_NO_SPACE} if it cannot fit
   */
  default VdiInfo createVdi(long sizeBytes, VdiMetadata metadata) throws SmException {
    throw SmException.unsupported("VDI create");
  }

  /**
   * {@link #createVdi(long, VdiMetadata)} with the VDI's {@code sm_config} from the caller, which
   * may ask for an image format ({@code image-format}: {@code vhd} or {@code qcow2}, as XCP-ng).
   * Drivers that keep no image format ignore it (the default).
   *
   * @throws SmException as {@link #createVdi(long, VdiMetadata)}, and {@link SmError#VDI_CREATE}
   *     for a format the driver does not know
   */
  default VdiInfo createVdi(
      long sizeBytes, VdiMetadata metadata, java.util.Map<String, String> smConfig)
      throws SmException {
    return createVdi(sizeBytes, metadata);
  }

  /**
   * Destroys a VDI ({@code vdi_delete}). Space shared with other VDIs is kept until the garbage
   * collector frees it.
   *
   * @throws SmException {@link SmError#VDI_IN_USE} if attached, {@link SmError#VDI_MISSING} if
   *     absent
   */
  default void deleteVdi(String location) throws SmException {
    throw SmException.unsupported("VDI delete");
  }

  /**
   * Snapshots a VDI ({@code vdi_snapshot}); safe while the VDI is active.
   *
   * @return the new snapshot VDI (for SINGLE and INTERNAL, the base copy)
   * @throws SmException {@link SmError#SNAPSHOT_CHAIN_TOO_LONG} when the chain is 30 deep
   */
  default VdiInfo snapshot(String location, SnapshotKind kind, VdiMetadata metadata)
      throws SmException {
    throw SmException.unsupported("VDI snapshot");
  }

  /**
   * Clones a VDI into a new, independent, writable VDI ({@code vdi_clone}).
   *
   * @throws SmException {@link SmError#SNAPSHOT_CHAIN_TOO_LONG} when the chain is 30 deep
   */
  default VdiInfo cloneVdi(String location, VdiMetadata metadata) throws SmException {
    throw SmException.unsupported("VDI clone");
  }

  /**
   * {@link #snapshot} that also reports the other VDIs the snapshot changed (on a VHD-tree SR: the
   * new hidden base copy, and the leaf now reading through it), so the caller can update its
   * records of them without a scan.
   *
   * <p>Same contract, durability, thread-safety and errors as {@link #snapshot}. The default calls
   * {@code snapshot} and reports nothing else changed ({@link TreeChange#changed()} empty): a
   * caller that needs the other VDIs' figures must then scan.
   */
  default TreeChange snapshotChange(String location, SnapshotKind kind, VdiMetadata metadata)
      throws SmException {
    return new TreeChange(snapshot(location, kind, metadata), List.of());
  }

  /**
   * {@link #cloneVdi} that also reports the other VDIs the clone changed, as {@link
   * #snapshotChange} does for a snapshot. The default calls {@code cloneVdi} and reports nothing
   * else changed.
   */
  default TreeChange cloneChange(String location, VdiMetadata metadata) throws SmException {
    return new TreeChange(cloneVdi(location, metadata), List.of());
  }

  /**
   * Snapshots several VDIs of this SR as one operation (a VM's disks). Each request is done as
   * {@link #snapshotChange} would do it; all or nothing: when this throws, none of the new VDIs
   * remains and the snapshotted VDIs are as before (data, tree, metadata).
   *
   * <p>Durability: when this returns, every snapshot is durable. A crash during the call leaves,
   * once the SR is attached or scanned again, either all the snapshots or none (drivers that
   * implement this natively make the batch one recoverable operation; the default cannot promise
   * this across a crash, only across failures it sees).
   *
   * <p>Point in time: each VDI is captured as of the moment its own snapshot is taken; a native
   * implementation pauses every active device of the batch together for the shortest window it can,
   * which is what a VM's crash-consistent snapshot wants.
   *
   * <p>Thread-safety: like every {@code Sr} method; the batch holds the SR's lock, so other tree
   * changes of the SR wait for it.
   *
   * <p>The default calls {@link #snapshotChange} for each request in order and, when one fails,
   * deletes the snapshots already made ({@link #deleteVdi}) before rethrowing; a failure of that
   * undo is added to the original exception as suppressed.
   *
   * @param requests the VDIs, each at most once
   * @return one {@link TreeChange} per request, in the order of the requests
   * @throws SmException as {@link #snapshot} ({@link SmError#VDI_MISSING}, {@link
   *     SmError#SNAPSHOT_CHAIN_TOO_LONG}, ...) for the first request that fails; {@link
   *     SmError#BAD_REQUEST} if a VDI appears twice
   */
  default List<TreeChange> snapshotAll(List<SnapshotRequest> requests) throws SmException {
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (SnapshotRequest r : requests) {
      if (!seen.add(r.location())) {
        throw new SmException(
            SmError.BAD_REQUEST, "VDI " + r.location() + " appears twice in one batched snapshot");
      }
    }
    List<TreeChange> done = new java.util.ArrayList<>();
    try {
      for (SnapshotRequest r : requests) {
        done.add(snapshotChange(r.location(), r.kind(), r.metadata()));
      }
      return List.copyOf(done);
    } catch (SmException | RuntimeException failure) {
      for (TreeChange c : done) {
        try {
          deleteVdi(c.vdi().location());
        } catch (SmException | RuntimeException undo) {
          failure.addSuppressed(undo);
        }
      }
      throw failure;
    }
  }

  /**
   * Grows a detached VDI ({@code vdi_resize}); data is kept, new space reads as zeros.
   *
   * @throws SmException {@link SmError#VDI_SIZE} if smaller than now
   */
  default VdiInfo resize(String location, long newSizeBytes) throws SmException {
    throw SmException.unsupported("VDI resize");
  }

  /** Grows an attached VDI ({@code vdi_resize_online}). */
  default VdiInfo resizeOnline(String location, long newSizeBytes) throws SmException {
    throw SmException.unsupported("VDI resize online");
  }

  /**
   * Tells the SR master that a VDI is active on another host of the pool (a shared SR), until
   * {@link #inactiveElsewhere}: tree operations and the collector that change the chain under that
   * VDI suspend the other host's device around the change. The collector does not leaf-coalesce a
   * VDI active elsewhere (it cannot see that host's writes). The default ignores it: a driver whose
   * devices keep nothing the SR master's changes could make stale (a LUN) has nothing to suspend.
   */
  default void activeElsewhere(String location, RemoteDevice device) {}

  /** The VDI is no longer active on the other host {@link #activeElsewhere} named. */
  default void inactiveElsewhere(String location) {}

  /**
   * Prepares a VDI for use on this host ({@code vdi_attach}).
   *
   * @param writable false for read-only use; snapshots and base copies are always read-only
   * @throws SmException {@link SmError#VDI_IN_USE} if already attached, {@link
   *     SmError#VDI_UNAVAILABLE} if {@code writable} is asked of a read-only VDI
   */
  default void attachVdi(String location, boolean writable) throws SmException {
    throw SmException.unsupported("VDI attach");
  }

  /**
   * Makes an attached VDI usable for I/O ({@code vdi_activate}).
   *
   * @return its block device, valid until {@link #deactivateVdi}
   */
  default VdiDevice activateVdi(String location) throws SmException {
    throw SmException.unsupported("VDI activate");
  }

  /** Flushes and closes the VDI's device ({@code vdi_deactivate}). */
  default void deactivateVdi(String location) throws SmException {
    throw SmException.unsupported("VDI deactivate");
  }

  /** Releases the VDI ({@code vdi_detach}); deactivates it first if needed. */
  default void detachVdi(String location) throws SmException {
    throw SmException.unsupported("VDI detach");
  }

  /** Stores new metadata for a VDI ({@code vdi_update}). */
  default void updateVdi(String location, VdiMetadata metadata) throws SmException {
    throw SmException.unsupported("VDI update");
  }

  /** Makes a VDI known that exists on the storage but not to the caller ({@code vdi_introduce}). */
  default VdiInfo introduceVdi(String uuid, String location, VdiMetadata metadata)
      throws SmException {
    throw SmException.unsupported("VDI introduce");
  }

  /** Makes {@code childLocation}'s data sit over {@code parentLocation} ({@code vdi_compose}). */
  default void compose(String parentLocation, String childLocation) throws SmException {
    throw SmException.unsupported("VDI compose");
  }

  /**
   * A self-contained description from which {@link #activateFromConfig} can use the VDI without the
   * caller's database ({@code vdi_generate_config}).
   */
  default String generateConfig(String location) throws SmException {
    throw SmException.unsupported("VDI generate config");
  }

  /** Attaches and activates a VDI from a {@link #generateConfig} string. */
  default VdiDevice activateFromConfig(String config) throws SmException {
    throw SmException.unsupported("VDI generate config");
  }

  /** Starts changed-block tracking for a VDI ({@code vdi_enable_cbt}). */
  default void enableCbt(String location) throws SmException {
    throw SmException.unsupported("VDI enable CBT");
  }

  /** Stops changed-block tracking and drops its metadata ({@code vdi_disable_cbt}). */
  default void disableCbt(String location) throws SmException {
    throw SmException.unsupported("VDI disable CBT");
  }

  /**
   * The blocks that changed from snapshot {@code fromLocation} to VDI {@code toLocation} (a later
   * snapshot or the live VDI) ({@code vdi_list_changed_blocks}).
   *
   * @throws SmException {@link SmError#VDI_NO_CBT_METADATA} if tracking was not on for the whole
   *     span, or its metadata is inconsistent
   */
  default ChangedBlocks listChangedBlocks(String fromLocation, String toLocation)
      throws SmException {
    throw SmException.unsupported("VDI list changed blocks");
  }

  /**
   * Deletes a CBT-enabled snapshot's data but keeps its CBT metadata, turning it into a {@code
   * cbt_metadata} VDI ({@code vdi_data_destroy}).
   */
  default void dataDestroy(String location) throws SmException {
    throw SmException.unsupported("VDI data destroy");
  }
}
