package org.xsm.iscsi.initiator;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * One iSCSI PDU (RFC 7143 section 11): the 48-byte basic header segment and its data segment. No
 * additional header segments and no digests: the initiator always negotiates {@code
 * HeaderDigest=None} and {@code DataDigest=None} and refuses PDUs carrying AHS.
 *
 * <p>Field accessors read and write the header in place, big-endian, at the offsets the RFC gives.
 * Not thread-safe; a PDU belongs to the thread that builds or received it.
 */
final class Pdu {
  static final int BHS_LENGTH = 48;

  // Initiator opcodes.
  static final int NOP_OUT = 0x00;
  static final int SCSI_COMMAND = 0x01;
  static final int LOGIN_REQUEST = 0x03;
  static final int TEXT_REQUEST = 0x04;
  static final int DATA_OUT = 0x05;
  static final int LOGOUT_REQUEST = 0x06;
  // Target opcodes.
  static final int NOP_IN = 0x20;
  static final int SCSI_RESPONSE = 0x21;
  static final int TASK_RESPONSE = 0x22;
  static final int LOGIN_RESPONSE = 0x23;
  static final int TEXT_RESPONSE = 0x24;
  static final int DATA_IN = 0x25;
  static final int LOGOUT_RESPONSE = 0x26;
  static final int R2T = 0x31;
  static final int ASYNC_MESSAGE = 0x32;
  static final int REJECT = 0x3f;

  /** The reserved tag value ("no task"). */
  static final int NO_TAG = 0xffffffff;

  final ByteBuffer bhs;

  /** The data segment without padding; never null, possibly empty. */
  ByteBuffer data;

  /** Whether {@link #data} was read straight into its final place (a {@link SegmentSink}). */
  boolean delivered;

  /** Where an incoming data segment may be read directly, instead of into a new array. */
  interface SegmentSink {
    /**
     * A buffer whose remaining bytes (exactly {@code length}) receive the data segment of the PDU
     * whose header is {@code header}, or null to read it into a new array.
     */
    ByteBuffer target(Pdu header, int length);
  }

  private Pdu(ByteBuffer bhs, ByteBuffer data) {
    this.bhs = bhs;
    this.data = data;
  }

  /**
   * A new request PDU with {@code opcode}, the immediate bit if asked, and an empty data segment.
   */
  static Pdu request(int opcode, boolean immediate) {
    ByteBuffer bhs = ByteBuffer.allocate(BHS_LENGTH);
    bhs.put(0, (byte) (opcode | (immediate ? 0x40 : 0)));
    return new Pdu(bhs, ByteBuffer.allocate(0));
  }

  int opcode() {
    return bhs.get(0) & 0x3f;
  }

  int flags() {
    return bhs.get(1) & 0xff;
  }

  void flags(int value) {
    bhs.put(1, (byte) value);
  }

  int byteAt(int index) {
    return bhs.get(index) & 0xff;
  }

  void byteAt(int index, int value) {
    bhs.put(index, (byte) value);
  }

  int intAt(int offset) {
    return bhs.getInt(offset);
  }

  void intAt(int offset, int value) {
    bhs.putInt(offset, value);
  }

  long longAt(int offset) {
    return bhs.getLong(offset);
  }

  void longAt(int offset, long value) {
    bhs.putLong(offset, value);
  }

  int initiatorTaskTag() {
    return bhs.getInt(16);
  }

  void initiatorTaskTag(int tag) {
    bhs.putInt(16, tag);
  }

  int dataSegmentLength() {
    return data.remaining();
  }

  /** Sets the data segment (its remaining bytes); the buffer is not copied. */
  void data(ByteBuffer segment) {
    this.data = segment;
  }

  /**
   * Writes the PDU: header, data segment, zero padding to a multiple of 4 bytes. The caller holds
   * the connection's send lock.
   */
  void writeTo(OutputStream out) throws IOException {
    int length = data.remaining();
    if (length > 0xffffff) {
      throw new IllegalArgumentException("data segment of " + length + " bytes is too long");
    }
    bhs.put(4, (byte) 0);
    bhs.put(5, (byte) (length >>> 16));
    bhs.put(6, (byte) (length >>> 8));
    bhs.put(7, (byte) length);
    out.write(bhs.array(), 0, BHS_LENGTH);
    if (length > 0) {
      if (data.hasArray()) {
        out.write(data.array(), data.arrayOffset() + data.position(), length);
      } else {
        byte[] copy = new byte[length];
        data.duplicate().get(copy);
        out.write(copy);
      }
      int pad = (4 - (length & 3)) & 3;
      if (pad > 0) {
        out.write(new byte[pad]);
      }
    }
  }

  /**
   * Reads one PDU from a target.
   *
   * @throws EOFException if the target closed the connection
   * @throws IscsiException if the PDU carries additional header segments (never negotiated)
   */
  static Pdu readFrom(InputStream in) throws IOException {
    return readFrom(in, (header, length) -> null);
  }

  /**
   * Reads one PDU from a target, its data segment into the buffer {@code sink} names if any
   * (Data-In straight into the reader's buffer: no intermediate copy).
   */
  static Pdu readFrom(InputStream in, SegmentSink sink) throws IOException {
    byte[] header = in.readNBytes(BHS_LENGTH);
    if (header.length < BHS_LENGTH) {
      throw new EOFException("connection closed by the target");
    }
    ByteBuffer bhs = ByteBuffer.wrap(header);
    int ahsWords = header[4] & 0xff;
    if (ahsWords != 0) {
      throw new IscsiException(
          "target sent a PDU (opcode 0x"
              + Integer.toHexString(header[0] & 0x3f)
              + ") with "
              + ahsWords * 4
              + " bytes of additional header segments, which this initiator never negotiates");
    }
    int length = ((header[5] & 0xff) << 16) | ((header[6] & 0xff) << 8) | (header[7] & 0xff);
    int padded = (length + 3) & ~3;
    Pdu pdu = new Pdu(bhs, ByteBuffer.allocate(0));
    ByteBuffer target = length > 0 ? sink.target(pdu, length) : null;
    if (target != null && target.remaining() == length) {
      readFully(in, target);
      if (in.readNBytes(padded - length).length < padded - length) {
        throw new EOFException("connection closed by the target inside a data segment");
      }
      pdu.data = target.flip();
      pdu.delivered = true;
      return pdu;
    }
    byte[] segment = in.readNBytes(padded);
    if (segment.length < padded) {
      throw new EOFException("connection closed by the target inside a data segment");
    }
    return new Pdu(bhs, ByteBuffer.wrap(segment, 0, length));
  }

  private static void readFully(InputStream in, ByteBuffer target) throws IOException {
    int length = target.remaining();
    if (target.hasArray()) {
      int n = in.readNBytes(target.array(), target.arrayOffset() + target.position(), length);
      if (n < length) {
        throw new EOFException("connection closed by the target inside a data segment");
      }
      target.position(target.position() + n);
      return;
    }
    byte[] copy = in.readNBytes(length);
    if (copy.length < length) {
      throw new EOFException("connection closed by the target inside a data segment");
    }
    target.put(copy);
  }

  @Override
  public String toString() {
    return "PDU opcode 0x"
        + Integer.toHexString(opcode())
        + " flags 0x"
        + Integer.toHexString(flags())
        + " itt 0x"
        + Integer.toHexString(initiatorTaskTag())
        + " data "
        + data.remaining();
  }
}
