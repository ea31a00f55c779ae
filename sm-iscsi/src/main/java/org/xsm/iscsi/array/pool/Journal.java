package org.xsm.iscsi.array.pool;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The pool's write-ahead journal: an append-only file of checksummed records.
 *
 * <p>Record layout (big-endian): {@code int payloadLength, int crc32c, long seq, byte type,
 * payload}. The CRC covers seq, type and payload. Replay reads records in order and stops at the
 * first one that is short or fails its CRC: that is the torn tail of a write the process did not
 * finish, which was never acknowledged (acknowledgement waits for {@link #force}), so it is cut
 * off. Records whose seq is below the checkpoint's are already in the checkpoint and skipped.
 *
 * <p>Durability: {@link #append} only buffers; {@link #writeOut} hands the buffer to the OS (it
 * then survives a killed process, not a power cut); {@link #force} also fsyncs (survives both). Not
 * thread-safe; the pool guards it.
 */
final class Journal implements AutoCloseable {
  static final int HEADER = 17;
  private static final int MAX_PAYLOAD = 64 * 1024 * 1024;

  private final Path path;
  private final FileChannel channel;
  private ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
  private long nextSeq;
  private long end;

  private Journal(Path path, FileChannel channel) {
    this.path = path;
    this.channel = channel;
  }

  static Journal open(Path path) throws IOException {
    FileChannel ch =
        FileChannel.open(
            path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    return new Journal(path, ch);
  }

  /** One journal record, as replay hands it over. */
  record Entry(long seq, byte type, ByteBuffer payload) {}

  /** Receives replayed records. */
  interface Replayer {
    void apply(Entry e) throws IOException;
  }

  /**
   * Applies every intact record with {@code seq >= fromSeq}, cuts off a torn tail, and positions
   * the journal for appending. Returns the number of records applied.
   */
  int replay(long fromSeq, Replayer replayer) throws IOException {
    long size = channel.size();
    long pos = 0;
    int applied = 0;
    nextSeq = fromSeq;
    ByteBuffer head = ByteBuffer.allocate(HEADER);
    while (pos + HEADER <= size) {
      head.clear();
      readFully(head, pos);
      head.flip();
      int len = head.getInt();
      int crc = head.getInt();
      long seq = head.getLong();
      byte type = head.get();
      if (len < 0 || len > MAX_PAYLOAD || pos + HEADER + len > size) {
        break;
      }
      ByteBuffer payload = ByteBuffer.allocate(len);
      readFully(payload, pos + HEADER);
      payload.flip();
      if (crc != crc(seq, type, payload)) {
        break;
      }
      if (seq >= fromSeq) {
        replayer.apply(new Entry(seq, type, payload));
        applied++;
        nextSeq = seq + 1;
      }
      pos += HEADER + len;
    }
    if (pos < size) {
      // The torn tail: cut it so new records follow the last intact one.
      channel.truncate(pos);
      channel.force(false);
    }
    end = pos;
    return applied;
  }

  long nextSeq() {
    return nextSeq;
  }

  /** Bytes in the file plus bytes buffered. */
  long size() {
    return end + buffer.position();
  }

  /** Buffers one record; returns its seq. */
  long append(byte type, byte[] payload, int len) {
    if (buffer.remaining() < HEADER + len) {
      ByteBuffer bigger =
          ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + HEADER + len));
      buffer.flip();
      bigger.put(buffer);
      buffer = bigger;
    }
    long seq = nextSeq++;
    ByteBuffer p = ByteBuffer.wrap(payload, 0, len);
    buffer.putInt(len).putInt(crc(seq, type, p)).putLong(seq).put(type).put(payload, 0, len);
    return seq;
  }

  /** Hands buffered records to the OS: they survive a killed process from here on. */
  void writeOut() throws IOException {
    if (buffer.position() == 0) {
      return;
    }
    buffer.flip();
    while (buffer.hasRemaining()) {
      end += channel.write(buffer, end);
    }
    buffer.clear();
  }

  /** Writes out and fsyncs: records survive a power cut from here on. */
  void force() throws IOException {
    writeOut();
    channel.force(false);
  }

  /** Empties the journal after a checkpoint that holds everything before {@code nextSeq}. */
  void reset() throws IOException {
    writeOut();
    channel.truncate(0);
    channel.force(false);
    end = 0;
  }

  Path path() {
    return path;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  private static int crc(long seq, byte type, ByteBuffer payload) {
    CRC32C c = new CRC32C();
    ByteBuffer h = ByteBuffer.allocate(9).putLong(seq).put(type);
    h.flip();
    c.update(h);
    c.update(payload.duplicate());
    return (int) c.getValue();
  }

  private void readFully(ByteBuffer dst, long pos) throws IOException {
    while (dst.hasRemaining()) {
      int n = channel.read(dst, pos);
      if (n < 0) {
        throw new IOException("unexpected end of journal " + path + " at " + pos);
      }
      pos += n;
    }
  }
}
