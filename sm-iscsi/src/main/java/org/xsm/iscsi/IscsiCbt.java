package org.xsm.iscsi;

import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.xsm.api.ChangedBlocks;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.iscsi.control.ChangedBlocksAnswer;
import org.xsm.iscsi.control.ControlClient;
import org.xsm.iscsi.control.Lun;

/**
 * Changed-block tracking on the iSCSI SR, built on the array's changed-blocks and data-destroy
 * calls.
 *
 * <p>The array needs no tracking: it derives the changes between two LUNs from their block maps
 * (or, for a snapshot whose data was destroyed, from content digests it kept), so there is no cost
 * per write and no log to lose in a crash. What the SR keeps is whether tracking is on: enable CBT
 * puts a fresh {@value LunMetadata#CBT_EPOCH} in the LUN's metadata, every snapshot and clone made
 * while it is there gets a copy in the same control call that makes it, disable removes it from the
 * VDI (its snapshots keep theirs). So two VDIs with the same epoch were both taken while tracking
 * ran without a break, as the EXT SR's chain of CBT logs would prove; any other pair is {@link
 * SmError#VDI_NO_CBT_METADATA}, as there. Unlike the log chain, the array's answer is also right
 * between siblings (a clone and the leaf) or in reverse order: it is the set of blocks whose
 * content differs.
 *
 * <p>Changes are answered in 64 KiB blocks, XenAPI's granularity (what the array answers; another
 * granularity from an array is regrouped so that a block touching a 64 KiB block marks it).
 */
final class IscsiCbt {
  /** The block size of {@link ChangedBlocks} answers: XenAPI's list_changed_blocks granule. */
  static final int BLOCK_SIZE = 64 * 1024;

  private IscsiCbt() {}

  /** The metadata of a snapshot or clone of {@code source}: the tracking span goes with it. */
  static void inherit(Lun source, Map<String, String> copy) {
    String epoch = LunMetadata.cbtEpoch(source);
    if (epoch != null) {
      copy.put(LunMetadata.CBT_EPOCH, epoch);
    }
  }

  /** Starts tracking (keeps a running span: enabling twice changes nothing). */
  static void enable(ControlClient client, Lun lun) throws SmException {
    if (LunMetadata.cbtEpoch(lun) != null) {
      return;
    }
    if (lun.dataDestroyed()) {
      throw new SmException(
          SmError.VDI_NO_CBT_METADATA,
          "VDI " + lun.id() + " has no data left to track (its data was destroyed)");
    }
    Map<String, String> map = new LinkedHashMap<>(lun.metadata());
    map.put(LunMetadata.CBT_EPOCH, UUID.randomUUID().toString());
    client.putMetadata(lun.id(), map);
  }

  static void disable(ControlClient client, Lun lun) throws SmException {
    if (LunMetadata.cbtEpoch(lun) == null) {
      return;
    }
    Map<String, String> map = new LinkedHashMap<>(lun.metadata());
    map.remove(LunMetadata.CBT_EPOCH);
    client.putMetadata(lun.id(), map);
  }

  static ChangedBlocks changedBlocks(ControlClient client, Lun from, Lun to) throws SmException {
    String a = LunMetadata.cbtEpoch(from);
    String b = LunMetadata.cbtEpoch(to);
    if (a == null || b == null) {
      throw new SmException(
          SmError.VDI_NO_CBT_METADATA,
          "CBT is not enabled on VDI " + (a == null ? from.id() : to.id()));
    }
    if (!a.equals(b)) {
      throw new SmException(
          SmError.VDI_NO_CBT_METADATA,
          "VDIs "
              + from.id()
              + " and "
              + to.id()
              + " are not in one span of changed-block tracking (it was disabled or never on"
              + " between them)");
    }
    ChangedBlocksAnswer answer = client.changedBlocks(to.id(), from.id());
    return new ChangedBlocks(
        BLOCK_SIZE, to.sizeBytes(), regroup(answer.changed(), answer.blockSizeBytes()));
  }

  /** Blocks of {@code size} bytes regrouped to {@link #BLOCK_SIZE}: any overlap marks a block. */
  static BitSet regroup(BitSet blocks, int size) {
    if (size == BLOCK_SIZE) {
      return blocks;
    }
    if (size <= 0) {
      throw new IllegalArgumentException("block size must be positive, not " + size);
    }
    BitSet out = new BitSet();
    for (int i = blocks.nextSetBit(0); i >= 0; i = blocks.nextSetBit(i + 1)) {
      long first = (long) i * size / BLOCK_SIZE;
      long last = ((long) (i + 1) * size - 1) / BLOCK_SIZE;
      out.set((int) first, (int) last + 1);
    }
    return out;
  }

  /**
   * Destroys a detached snapshot's data; its metadata says {@code cbt_metadata} in the same call.
   */
  static Lun dataDestroy(ControlClient client, Lun lun) throws SmException {
    if (LunMetadata.cbtEpoch(lun) == null) {
      throw new SmException(
          SmError.VDI_NO_CBT_METADATA,
          "VDI " + lun.id() + " has no CBT metadata: data destroy needs CBT enabled");
    }
    if (!lun.readOnly()) {
      throw new SmException(
          SmError.BAD_REQUEST,
          "data destroy needs a detached snapshot VDI; " + lun.id() + " is writable");
    }
    Map<String, String> map = new LinkedHashMap<>(lun.metadata());
    map.put(LunMetadata.TYPE, LunMetadata.TYPE_CBT_METADATA);
    map.putIfAbsent(LunMetadata.IS_A_SNAPSHOT, "true"); // read-only LUN: a snapshot
    return client.dataDestroy(lun.id(), map);
  }
}
