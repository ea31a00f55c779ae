package org.xsm.iscsi.array.pool;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runtime state of one LUN: its descriptor and its block map (pool block number per LUN block,
 * {@link #ZERO} for a block that reads as zeros and holds no pool space). Guarded by the pool.
 */
final class Lun {
  static final int ZERO = -1;

  final String id;
  String name;
  final int number;
  long sizeBytes;
  final boolean readOnly;
  final String snapshotOf;
  final String cloneOf;
  final Instant created;
  Map<String, String> metadata;
  BlockMap map;
  int mappedBlocks;

  /**
   * Non-null once the LUN's data was destroyed: its content digests, kept for changed-block
   * queries; its map is then empty and it holds no pool block.
   */
  GranuleDigests digests;

  Lun(
      String id,
      String name,
      int number,
      long sizeBytes,
      boolean readOnly,
      String snapshotOf,
      String cloneOf,
      Instant created,
      Map<String, String> metadata,
      int blockSize) {
    this.id = id;
    this.name = name;
    this.number = number;
    this.sizeBytes = sizeBytes;
    this.readOnly = readOnly;
    this.snapshotOf = snapshotOf;
    this.cloneOf = cloneOf;
    this.created = created;
    this.metadata = new LinkedHashMap<>(metadata);
    this.map = new BlockMap(blockCount(sizeBytes, blockSize));
  }

  static int blockCount(long sizeBytes, int blockSize) {
    return (int) ((sizeBytes + blockSize - 1) / blockSize);
  }

  LunInfo info(int blockSize) {
    return new LunInfo(
        id,
        name,
        number,
        sizeBytes,
        readOnly,
        snapshotOf,
        cloneOf,
        created,
        (long) mappedBlocks * blockSize,
        Map.copyOf(metadata),
        digests != null);
  }

  /** Writes the descriptor (not the map) in the journal's and checkpoint's encoding. */
  void writeDescriptor(DataOutput out) throws IOException {
    out.writeUTF(id);
    out.writeUTF(name);
    out.writeInt(number);
    out.writeLong(sizeBytes);
    out.writeBoolean(readOnly);
    writeNullable(out, snapshotOf);
    writeNullable(out, cloneOf);
    out.writeLong(created.toEpochMilli());
    writeMap(out, metadata);
  }

  static Lun readDescriptor(DataInput in, int blockSize) throws IOException {
    String id = in.readUTF();
    String name = in.readUTF();
    int number = in.readInt();
    long size = in.readLong();
    boolean ro = in.readBoolean();
    String snapOf = readNullable(in);
    String cloneOf = readNullable(in);
    Instant created = Instant.ofEpochMilli(in.readLong());
    Map<String, String> meta = readMap(in);
    return new Lun(id, name, number, size, ro, snapOf, cloneOf, created, meta, blockSize);
  }

  static void writeMap(DataOutput out, Map<String, String> m) throws IOException {
    out.writeInt(m.size());
    for (Map.Entry<String, String> e : m.entrySet()) {
      out.writeUTF(e.getKey());
      out.writeUTF(e.getValue());
    }
  }

  static Map<String, String> readMap(DataInput in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 1_000_000) {
      throw new IOException("metadata entry count out of range: " + n);
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      m.put(in.readUTF(), in.readUTF());
    }
    return m;
  }

  private static void writeNullable(DataOutput out, String s) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      out.writeUTF(s);
    }
  }

  private static String readNullable(DataInput in) throws IOException {
    return in.readBoolean() ? in.readUTF() : null;
  }
}
