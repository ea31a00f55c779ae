package org.xsm.iscsi.array.pool;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Journal record types and the encoder for the descriptor-carrying ones. */
final class Records {
  /** Payload: LUN descriptor. */
  static final byte CREATE = 1;

  /** Payload: UTF id. */
  static final byte DELETE = 2;

  /** Payload: UTF id, long new size. */
  static final byte RESIZE = 3;

  /** Payload: UTF id, metadata map. */
  static final byte SET_METADATA = 4;

  /** Payload: new LUN's descriptor, UTF source id. The new LUN shares the source's blocks. */
  static final byte COPY = 5;

  /**
   * Payload: int LUN number, int first LUN block, int count, then per block an int pool block
   * ({@link Lun#ZERO} or a block number followed by its 32-byte content hash).
   */
  static final byte WRITE = 6;

  /** No payload: every pool block named by an earlier record is on stable storage. */
  static final byte SYNC = 7;

  /**
   * Payload: UTF id, boolean, and if true the LUN's new metadata map. The LUN's data is destroyed:
   * replay computes its granule digests from the state at this point, as the live pool did.
   */
  static final byte DATA_DESTROY = 8;

  private Records() {}

  /** A record not yet appended. */
  record Record(byte type, byte[] payload) {}

  /** Builds a payload with a {@link DataOutputStream}. */
  interface Body {
    void write(DataOutputStream out) throws IOException;
  }

  static byte[] encode(Body body) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      body.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
