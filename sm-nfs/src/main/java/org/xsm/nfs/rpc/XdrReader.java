package org.xsm.nfs.rpc;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Decodes XDR (RFC 4506) from a buffer. A reply that ends early or announces an opaque longer than
 * it holds fails with {@link XdrException}, never with a runtime exception. Not thread-safe.
 */
public final class XdrReader {
  /** Longest opaque or string accepted, against corrupt or hostile lengths. */
  private static final int MAX_OPAQUE = 64 << 20;

  private final ByteBuffer buf;

  public XdrReader(ByteBuffer buf) {
    this.buf = buf;
  }

  private void need(int n) throws XdrException {
    if (buf.remaining() < n) {
      throw new XdrException(
          "XDR data ends early: need " + n + " bytes, " + buf.remaining() + " left");
    }
  }

  public int readInt() throws XdrException {
    need(4);
    return buf.getInt();
  }

  public boolean readBoolean() throws XdrException {
    int v = readInt();
    if (v != 0 && v != 1) {
      throw new XdrException("XDR boolean is " + v + ", not 0 or 1");
    }
    return v == 1;
  }

  public long readLong() throws XdrException {
    need(8);
    return buf.getLong();
  }

  private int opaqueLength(int max) throws XdrException {
    int len = readInt();
    if (len < 0 || len > max) {
      throw new XdrException("XDR opaque length " + (len & 0xffffffffL) + " exceeds " + max);
    }
    return len;
  }

  public byte[] readFixedOpaque(int len) throws XdrException {
    need(len + ((4 - (len & 3)) & 3));
    byte[] b = new byte[len];
    buf.get(b);
    skipPad(len);
    return b;
  }

  public byte[] readOpaque(int max) throws XdrException {
    return readFixedOpaque(opaqueLength(Math.min(max, MAX_OPAQUE)));
  }

  public byte[] readOpaque() throws XdrException {
    return readOpaque(MAX_OPAQUE);
  }

  public String readString() throws XdrException {
    return new String(readOpaque(), StandardCharsets.UTF_8);
  }

  /**
   * Reads a variable-length opaque into {@code dst} without an intermediate array.
   *
   * @return the number of bytes copied (the opaque's length)
   * @throws XdrException if the opaque is longer than {@code dst.remaining()}
   */
  public int readOpaqueInto(ByteBuffer dst) throws XdrException {
    int len = opaqueLength(dst.remaining());
    need(len + ((4 - (len & 3)) & 3));
    ByteBuffer src = buf.slice();
    src.limit(len);
    dst.put(src);
    buf.position(buf.position() + len);
    skipPad(len);
    return len;
  }

  private void skipPad(int len) {
    buf.position(buf.position() + ((4 - (len & 3)) & 3));
  }

  public void skip(int n) throws XdrException {
    need(n);
    buf.position(buf.position() + n);
  }

  public int remaining() {
    return buf.remaining();
  }
}
