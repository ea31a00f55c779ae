package org.xsm.server.guestconsole;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Just enough of an RFB 3.8 client (RFC 6143) to check a console: the version banner, security
 * "None", ClientInit/ServerInit, and the first rectangle of a full framebuffer update in raw
 * encoding.
 */
final class RfbClient {
  private final DataInputStream in;
  private final OutputStream out;
  private String banner;
  private ServerInit init;

  record ServerInit(int width, int height, int bitsPerPixel, String name) {}

  /** The first rectangle of an update: where, how big, and its raw pixels. */
  record Rect(int x, int y, int width, int height, byte[] pixels) {
    boolean anyPixelSet() {
      for (byte b : pixels) {
        if (b != 0) {
          return true;
        }
      }
      return false;
    }
  }

  RfbClient(InputStream in, OutputStream out) {
    this.in = new DataInputStream(in);
    this.out = out;
  }

  String banner() {
    return banner;
  }

  ServerInit init() {
    return init;
  }

  /** The handshake up to ServerInit. */
  ServerInit handshake() throws IOException {
    byte[] b = new byte[12];
    in.readFully(b);
    banner = new String(b, StandardCharsets.US_ASCII);
    if (!banner.startsWith("RFB 003.00")) {
      throw new IOException("not an RFB banner: " + banner);
    }
    send("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII));
    int n = in.readUnsignedByte();
    if (n == 0) {
      throw new IOException("the server refused: " + readString());
    }
    byte[] types = new byte[n];
    in.readFully(types);
    boolean none = false;
    for (byte t : types) {
      none |= t == 1;
    }
    if (!none) {
      throw new IOException("the server does not offer security type None");
    }
    send(new byte[] {1});
    if (in.readInt() != 0) {
      throw new IOException("security handshake failed: " + readString());
    }
    send(new byte[] {1}); // ClientInit: shared
    int width = in.readUnsignedShort();
    int height = in.readUnsignedShort();
    byte[] format = new byte[16];
    in.readFully(format);
    init = new ServerInit(width, height, format[0] & 0xff, readString());
    return init;
  }

  /** Asks for the whole screen in raw encoding and reads the first rectangle of the answer. */
  Rect firstUpdate() throws IOException {
    send(ByteBuffer.allocate(8).put((byte) 2).put((byte) 0).putShort((short) 1).putInt(0).array());
    send(
        ByteBuffer.allocate(10)
            .put((byte) 3)
            .put((byte) 0)
            .putShort((short) 0)
            .putShort((short) 0)
            .putShort((short) init.width())
            .putShort((short) init.height())
            .array());
    while (true) {
      int type = in.readUnsignedByte();
      switch (type) {
        case 0 -> {
          in.readUnsignedByte();
          int rects = in.readUnsignedShort();
          if (rects == 0) {
            throw new IOException("an update without rectangles");
          }
          int x = in.readUnsignedShort();
          int y = in.readUnsignedShort();
          int w = in.readUnsignedShort();
          int h = in.readUnsignedShort();
          int encoding = in.readInt();
          if (encoding != 0) {
            throw new IOException("asked for raw, got encoding " + encoding);
          }
          byte[] pixels = new byte[w * h * (init.bitsPerPixel() / 8)];
          in.readFully(pixels);
          return new Rect(x, y, w, h, pixels);
        }
        case 1 -> {
          in.readUnsignedByte();
          in.readUnsignedShort();
          in.skipNBytes(6L * in.readUnsignedShort());
        }
        case 2 -> {} // bell
        case 3 -> {
          in.skipNBytes(3);
          in.skipNBytes(in.readInt());
        }
        default -> throw new IOException("unknown server message " + type);
      }
    }
  }

  private String readString() throws IOException {
    byte[] s = new byte[in.readInt()];
    in.readFully(s);
    return new String(s, StandardCharsets.UTF_8);
  }

  private void send(byte[] b) throws IOException {
    out.write(b);
    out.flush();
  }
}
