package org.xsm.server.xva;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * How an XVA stream is compressed, as xapi's {@code use_compression} query parameter names it
 * ({@code true} or {@code gzip}: gzip; {@code zstd}: zstd; anything else: none). An import finds
 * out by itself from the first bytes (xapi: a tar header, else the zstd magic, else gzip).
 */
enum Compression {
  NONE,
  GZIP,
  ZSTD;

  private static final int ZSTD_MAGIC = 0x28B52FFD;

  /** xapi's reading of {@code use_compression}. */
  static Compression fromQuery(String value) {
    if (value == null) {
      return NONE;
    }
    return switch (value) {
      case "true", "gzip" -> GZIP;
      case "zstd" -> ZSTD;
      default -> NONE;
    };
  }

  /** The stream to write the tar into; closing it ends the compressed stream and {@code out}. */
  OutputStream compress(OutputStream out) throws IOException {
    return switch (this) {
      case NONE -> out;
      case GZIP -> new GZIPOutputStream(out, 64 * 1024);
      case ZSTD -> new ZstdOutputStream(out, 3);
    };
  }

  /** The tar inside {@code in}, whichever way it is compressed. */
  static InputStream decompress(InputStream in) throws IOException {
    BufferedInputStream b = new BufferedInputStream(in, 64 * 1024);
    b.mark(4);
    byte[] magic = b.readNBytes(4);
    b.reset();
    if (magic.length >= 2 && (magic[0] & 0xFF) == 0x1F && (magic[1] & 0xFF) == 0x8B) {
      return new BufferedInputStream(new GZIPInputStream(b, 64 * 1024), 64 * 1024);
    }
    if (magic.length == 4
        && ((magic[0] & 0xFF)
                | (magic[1] & 0xFF) << 8
                | (magic[2] & 0xFF) << 16
                | (magic[3] & 0xFF) << 24)
            == Integer.reverseBytes(ZSTD_MAGIC)) {
      return new BufferedInputStream(new ZstdInputStream(b), 64 * 1024);
    }
    return b;
  }
}
