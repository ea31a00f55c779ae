package org.xsm.nfs.rpc;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Encodes XDR (RFC 4506) into a growing big-endian buffer: 4-byte integers, 8-byte hypers, and
 * opaque data padded to a multiple of four bytes. Not thread-safe.
 */
public final class XdrWriter {
  private ByteBuffer buf;

  public XdrWriter() {
    this(256);
  }

  public XdrWriter(int initialCapacity) {
    buf = ByteBuffer.allocate(initialCapacity);
  }

  private void ensure(int n) {
    if (buf.remaining() < n) {
      ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n));
      buf.flip();
      bigger.put(buf);
      buf = bigger;
    }
  }

  public XdrWriter writeInt(int v) {
    ensure(4);
    buf.putInt(v);
    return this;
  }

  public XdrWriter writeBoolean(boolean v) {
    return writeInt(v ? 1 : 0);
  }

  public XdrWriter writeLong(long v) {
    ensure(8);
    buf.putLong(v);
    return this;
  }

  /** Fixed-length opaque: the bytes and their padding, no length. */
  public XdrWriter writeFixedOpaque(byte[] b) {
    ensure(b.length + 3);
    buf.put(b);
    pad(b.length);
    return this;
  }

  /** Variable-length opaque: the length, the bytes and their padding. */
  public XdrWriter writeOpaque(byte[] b) {
    writeInt(b.length);
    return writeFixedOpaque(b);
  }

  public XdrWriter writeString(String s) {
    return writeOpaque(s.getBytes(StandardCharsets.UTF_8));
  }

  private void pad(int len) {
    for (int i = len; (i & 3) != 0; i++) {
      buf.put((byte) 0);
    }
  }

  /** Number of bytes written so far. */
  public int size() {
    return buf.position();
  }

  /** The bytes written so far, as a buffer ready to read (shares this writer's storage). */
  public ByteBuffer toBuffer() {
    ByteBuffer b = buf.duplicate();
    b.flip();
    return b;
  }

  /** The zero bytes that pad {@code len} bytes of opaque data to a multiple of four. */
  public static ByteBuffer padding(int len) {
    return ByteBuffer.allocate((4 - (len & 3)) & 3);
  }
}
