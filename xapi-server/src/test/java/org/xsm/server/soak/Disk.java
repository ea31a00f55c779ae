package org.xsm.server.soak;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a worker knows of one of its VDIs (a disk or a snapshot): its reference, SR and size, and
 * its expected bytes, a value per 64 KiB block ({@link #fill}: 0 reads as zeros). A disk whose last
 * write got no answer (the server died meanwhile) has unknown bytes until it is written whole
 * again.
 */
final class Disk {
  static final int BLOCK = 64 * 1024;

  final String ref;
  final String uuid;
  final String sr;
  final boolean snapshot;
  long size;
  byte[] values;
  boolean unknown;
  boolean cbt;

  /** Snapshots of this disk this worker made, oldest first. */
  final List<Disk> snapshots = new ArrayList<>();

  Disk(String ref, String uuid, String sr, long size, boolean snapshot) {
    this.ref = ref;
    this.uuid = uuid;
    this.sr = sr;
    this.snapshot = snapshot;
    this.size = size;
    this.values = new byte[(int) (size / BLOCK)];
  }

  /** A copy of this disk's expected bytes, as a new VDI (snapshot, clone, copy). */
  Disk copyAs(String ref, String uuid, String sr, boolean snapshot) {
    Disk d = new Disk(ref, uuid, sr, size, snapshot);
    d.values = values.clone();
    d.unknown = unknown;
    return d;
  }

  void resized(long newSize) {
    size = newSize;
    values = Arrays.copyOf(values, (int) (newSize / BLOCK));
  }

  /** The expected bytes of the whole disk. */
  byte[] bytes() {
    byte[] out = new byte[(int) size];
    for (int b = 0; b < values.length; b++) {
      fill(out, b, values[b]);
    }
    return out;
  }

  /** Block {@code b} of a disk holding {@code v}: every byte {@code v} (qemu-io's {@code -P v}). */
  static void fill(byte[] disk, int b, byte v) {
    if (v != 0) {
      Arrays.fill(disk, b * BLOCK, (b + 1) * BLOCK, v);
    }
  }

  /** Which block of {@code got} first differs from the expected bytes, or -1. */
  int firstDifference(byte[] got) {
    byte[] want = bytes();
    if (got.length != want.length) {
      return Integer.MAX_VALUE;
    }
    for (int b = 0; b < values.length; b++) {
      if (!Arrays.equals(got, b * BLOCK, (b + 1) * BLOCK, want, b * BLOCK, (b + 1) * BLOCK)) {
        return b;
      }
    }
    return -1;
  }
}
