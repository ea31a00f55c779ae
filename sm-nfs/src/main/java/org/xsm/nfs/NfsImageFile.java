package org.xsm.nfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.NonWritableChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.xsm.nfs.client.FileHandle;
import org.xsm.nfs.client.Nfs3Client;
import org.xsm.nfs.client.Nfs3Client.Stable;
import org.xsm.nfs.client.Nfs3Client.WriteResult;
import org.xsm.nfs.client.NfsException;
import org.xsm.plugins.store.ImageFile;

/**
 * One file on an NFSv3 export. Reads and writes larger than the transfer size are split and the
 * pieces sent together (several READ or WRITE calls in flight on the one connection).
 *
 * <p>Crash safety: data is written UNSTABLE; each acknowledged WRITE is kept (offset, bytes, the
 * server's write verifier) until a COMMIT covers it. {@link #force()} sends COMMIT and compares its
 * verifier with each kept write's: if the server restarted in between (the verifier changed) it may
 * have dropped those writes, so they are sent again FILE_SYNC before {@code force()} returns. Hence
 * no write acknowledged by {@code force()} is lost to a server restart. To bound the memory kept, a
 * COMMIT is also sent, without waiting for it, whenever {@link #COMMIT_EVERY_BYTES} are waiting
 * (early durability is allowed by the store contract); its verifier is checked the same way when
 * the next one is due or at {@code force()}, so at most about twice that is kept, and the server's
 * flush overlaps the following writes. {@link #truncate} commits first, so that a resent write can
 * never extend a file past a later truncation. {@link #close} commits what is pending.
 */
final class NfsImageFile implements ImageFile {
  /** A COMMIT is sent whenever this much acknowledged data is waiting for one. */
  static final long COMMIT_EVERY_BYTES = 64L << 20;

  private static final AtomicLong REWRITTEN_BYTES = new AtomicLong();

  private record Uncommitted(long offset, ByteBuffer data, long verifier) {}

  private final NfsMount mount;
  private final FileHandle fh;
  private final String name;
  private final boolean writable;
  private final Object commitLock = new Object();
  private final List<Uncommitted> uncommitted = new ArrayList<>();
  private long uncommittedBytes;
  private List<Uncommitted> committing;
  private CompletableFuture<Long> commitReply;

  NfsImageFile(NfsMount mount, FileHandle fh, String name, boolean writable) {
    this.mount = mount;
    this.fh = fh;
    this.name = name;
    this.writable = writable;
  }

  /** Bytes sent again because a COMMIT showed the server had restarted (all files, this JVM). */
  static long rewrittenBytes() {
    return REWRITTEN_BYTES.get();
  }

  private Nfs3Client client() {
    return mount.client();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    if (!dst.hasRemaining()) {
      return 0;
    }
    int start = dst.position();
    int rsize = mount.readSize();
    List<ByteBuffer> pieces = new ArrayList<>();
    List<CompletableFuture<Nfs3Client.ReadResult>> calls = new ArrayList<>();
    for (int off = 0; off < dst.remaining(); off += rsize) {
      ByteBuffer piece = dst.duplicate();
      piece.position(start + off).limit(start + Math.min(dst.remaining(), off + rsize));
      pieces.add(piece);
      calls.add(client().readAsync(fh, position + off, piece.slice()));
    }
    int total = 0;
    boolean more = true;
    IOException failure = null;
    for (int i = 0; i < calls.size(); i++) {
      try {
        Nfs3Client.ReadResult r = client().await(calls.get(i));
        if (more) {
          total += r.count();
          // A short read ends the contiguous data; later pieces are not counted.
          more = r.count() == pieces.get(i).remaining() && !r.eof();
        }
      } catch (IOException e) {
        if (failure == null && more) {
          failure = e;
        }
        more = false;
      }
    }
    if (failure != null && total == 0) {
      throw failure;
    }
    if (total == 0) {
      return -1;
    }
    dst.position(start + total);
    return total;
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    if (!writable) {
      throw new NonWritableChannelException();
    }
    int len = src.remaining();
    int wsize = mount.writeSize();
    BufferPool pool = BufferPool.of(wsize);
    List<CompletableFuture<WriteResult>> calls = new ArrayList<>();
    List<Uncommitted> pieces = new ArrayList<>();
    for (int off = 0; off < len; off += wsize) {
      // A private copy: kept until COMMIT confirms it, to be sent again after a server restart.
      ByteBuffer part = src.duplicate();
      part.position(src.position() + off).limit(src.position() + Math.min(len, off + wsize));
      ByteBuffer piece = pool.take().put(part).flip();
      pieces.add(new Uncommitted(position + off, piece, 0));
      calls.add(client().writeAsync(fh, position + off, piece, Stable.UNSTABLE));
    }
    IOException failure = null;
    List<Uncommitted> done = new ArrayList<>();
    for (int i = 0; i < calls.size(); i++) {
      try {
        WriteResult r = client().await(calls.get(i));
        Uncommitted p = pieces.get(i);
        if (r.count() < p.data().remaining()) {
          r = finishShortWrite(p, r);
        }
        done.add(new Uncommitted(p.offset(), p.data(), r.verifier()));
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        }
      }
    }
    if (failure != null) {
      // Nothing is acknowledged to the caller; writes the server took are in the file anyway.
      for (Uncommitted p : pieces) {
        pool.give(p.data());
      }
      throw failure;
    }
    synchronized (commitLock) {
      uncommitted.addAll(done);
      uncommittedBytes += len;
    }
    src.position(src.position() + len);
    synchronized (commitLock) {
      if (uncommittedBytes > COMMIT_EVERY_BYTES) {
        finishCommit(); // the previous batch's COMMIT, sent while these writes went out
        startCommit();
      }
    }
    return len;
  }

  /** The server wrote less than asked (RFC 1813 allows it): send the rest, FILE_SYNC. */
  private WriteResult finishShortWrite(Uncommitted p, WriteResult first) throws IOException {
    ByteBuffer rest = p.data().duplicate();
    rest.position(rest.position() + first.count());
    long off = p.offset() + first.count();
    while (rest.hasRemaining()) {
      WriteResult r = client().await(client().writeAsync(fh, off, rest.slice(), Stable.FILE_SYNC));
      if (r.count() <= 0) {
        throw new NfsException(0, "WRITE to " + name + " at " + off + " made no progress");
      }
      rest.position(rest.position() + r.count());
      off += r.count();
    }
    return first;
  }

  @Override
  public long size() throws IOException {
    return client().getattr(fh).sizeBytes();
  }

  @Override
  public void truncate(long sizeBytes) throws IOException {
    if (!writable) {
      throw new NonWritableChannelException();
    }
    commit();
    client().setattr(fh, -1, sizeBytes);
  }

  @Override
  public void force() throws IOException {
    commit();
  }

  /** Makes every acknowledged write durable: COMMIT, resending what a server restart lost. */
  private void commit() throws IOException {
    synchronized (commitLock) {
      finishCommit();
      if (!uncommitted.isEmpty()) {
        startCommit();
        finishCommit();
      }
    }
  }

  /**
   * Sends COMMIT for the writes acknowledged so far, without waiting; the caller holds the lock.
   */
  private void startCommit() {
    committing = new ArrayList<>(uncommitted);
    uncommitted.clear();
    uncommittedBytes = 0;
    commitReply = client().commitAsync(fh);
  }

  /**
   * Waits for the COMMIT in flight, if any, then resends FILE_SYNC each write of its batch whose
   * verifier is not the COMMIT's, and releases the batch's buffers. The caller holds the lock. On
   * failure the batch goes back to the uncommitted writes, to be committed or resent later.
   */
  private void finishCommit() throws IOException {
    if (commitReply == null) {
      return;
    }
    List<Uncommitted> batch = committing;
    CompletableFuture<Long> reply = commitReply;
    commitReply = null;
    committing = null;
    try {
      long verifier = client().await(reply);
      for (Uncommitted u : batch) {
        if (u.verifier() != verifier) {
          WriteResult r =
              client().await(client().writeAsync(fh, u.offset(), u.data(), Stable.FILE_SYNC));
          if (r.count() < u.data().remaining()) {
            finishShortWrite(u, r);
          }
          REWRITTEN_BYTES.addAndGet(u.data().remaining());
        }
      }
    } catch (IOException e) {
      uncommitted.addAll(0, batch);
      for (Uncommitted u : batch) {
        uncommittedBytes += u.data().remaining();
      }
      throw e;
    }
    BufferPool pool = BufferPool.of(mount.writeSize());
    for (Uncommitted u : batch) {
      pool.give(u.data());
    }
  }

  @Override
  public void close() throws IOException {
    if (writable) {
      commit();
    }
  }
}
