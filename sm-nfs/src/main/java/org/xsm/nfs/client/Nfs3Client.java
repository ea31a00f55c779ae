package org.xsm.nfs.client;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.xsm.nfs.rpc.RpcClient;
import org.xsm.nfs.rpc.RpcClient.Reply;
import org.xsm.nfs.rpc.RpcOptions;
import org.xsm.nfs.rpc.XdrReader;
import org.xsm.nfs.rpc.XdrWriter;

/**
 * The NFSv3 procedures this project needs (RFC 1813), over one {@link RpcClient}. Failures are
 * {@link IOException}s: {@link NoSuchFileException} and {@link FileAlreadyExistsException} for
 * NOENT and EXIST, {@link NfsException} for other statuses, {@code RpcException} for transport
 * failures. Thread-safe; READ and WRITE have asynchronous forms so callers can keep several in
 * flight.
 */
public final class Nfs3Client implements Closeable {
  public static final int PROGRAM = 100003;
  public static final int VERSION = 3;
  private static final int GETATTR = 1;
  private static final int SETATTR = 2;
  private static final int LOOKUP = 3;
  private static final int ACCESS = 4;
  private static final int READ = 6;
  private static final int WRITE = 7;
  private static final int CREATE = 8;
  private static final int MKDIR = 9;
  private static final int REMOVE = 12;
  private static final int RMDIR = 13;
  private static final int RENAME = 14;
  private static final int READDIRPLUS = 17;
  private static final int FSSTAT = 18;
  private static final int FSINFO = 19;
  private static final int COMMIT = 21;

  /** ACCESS3 bits. */
  public static final int ACCESS_READ = 0x1;

  public static final int ACCESS_MODIFY = 0x4;
  public static final int ACCESS_EXTEND = 0x8;

  /** How a WRITE is to be committed (stable_how). */
  public enum Stable {
    UNSTABLE,
    DATA_SYNC,
    FILE_SYNC
  }

  /** The result of a WRITE: bytes written, how they were committed, and the write verifier. */
  public record WriteResult(int count, Stable committed, long verifier) {}

  /** The result of a READ: bytes read and whether the file ends there. */
  public record ReadResult(int count, boolean eof) {}

  /** A LOOKUP or CREATE result. */
  public record Entry(String name, FileHandle handle, FileAttributes attributes) {}

  /** FSSTAT: total, free and available-to-this-user bytes. */
  public record FsStat(long totalBytes, long freeBytes, long availableBytes) {}

  /** FSINFO: maximum and preferred READ and WRITE sizes. */
  public record FsInfo(int readMax, int readPreferred, int writeMax, int writePreferred) {}

  private final RpcClient rpc;

  private Nfs3Client(RpcClient rpc) {
    this.rpc = rpc;
  }

  /** Connects to an NFSv3 server at a known port. */
  public static Nfs3Client connect(InetSocketAddress address, RpcOptions options)
      throws IOException {
    return new Nfs3Client(RpcClient.connect(address, PROGRAM, VERSION, options));
  }

  /** The RPC client underneath, for its address and options. */
  public RpcClient rpc() {
    return rpc;
  }

  private static XdrWriter args(FileHandle fh) {
    XdrWriter w = new XdrWriter(128);
    Nfs3Xdr.writeHandle(w, fh);
    return w;
  }

  /** Calls and checks the status; on failure skips nothing (the caller does not read on). */
  private Reply call(int proc, XdrWriter args, String op, String what) throws IOException {
    Reply reply = rpc.call(proc, args.toBuffer());
    int status = reply.body().readInt();
    if (status != NfsStatus.OK) {
      if (status == NfsStatus.NOENT
          && reply.attempts() > 1
          && (proc == REMOVE || proc == RMDIR || proc == RENAME)) {
        // Retransmitted after a reconnect: the first attempt may have removed or renamed it.
        return null;
      }
      throw NfsStatus.exception(status, op, what);
    }
    return reply;
  }

  public FileAttributes getattr(FileHandle fh) throws IOException {
    return Nfs3Xdr.readFattr(call(GETATTR, args(fh), "GETATTR", fh.toString()).body());
  }

  /** SETATTR of the size and/or mode (-1 leaves one unchanged). Synchronous on the server. */
  public void setattr(FileHandle fh, int mode, long sizeBytes) throws IOException {
    XdrWriter w = args(fh);
    Nfs3Xdr.writeSattr(w, mode, sizeBytes);
    w.writeBoolean(false); // no ctime guard
    call(SETATTR, w, "SETATTR", fh.toString());
  }

  public Entry lookup(FileHandle dir, String name) throws IOException {
    XdrWriter w = args(dir).writeString(name);
    XdrReader r = call(LOOKUP, w, "LOOKUP", name).body();
    FileHandle fh = Nfs3Xdr.readHandle(r);
    return new Entry(name, fh, Nfs3Xdr.readPostOpAttr(r));
  }

  /** The subset of {@code mask} the server grants. */
  public int access(FileHandle fh, int mask) throws IOException {
    XdrReader r = call(ACCESS, args(fh).writeInt(mask), "ACCESS", fh.toString()).body();
    Nfs3Xdr.readPostOpAttr(r);
    return r.readInt();
  }

  /** Sends a READ of up to {@code dst.remaining()} bytes; the data goes into {@code dst}. */
  public CompletableFuture<ReadResult> readAsync(FileHandle fh, long offset, ByteBuffer dst) {
    XdrWriter w = args(fh).writeLong(offset).writeInt(dst.remaining());
    ReadSink sink = new ReadSink(dst);
    return decoded(
        rpc.callAsync(READ, sink, w.toBuffer()),
        reply -> sink.taken ? sink.result : decodeRead(reply.body(), dst, fh, offset));
  }

  /** Takes a successful READ's data straight from the socket into the caller's buffer. */
  private static final class ReadSink implements RpcClient.DataSink {
    private final ByteBuffer dst;
    volatile boolean taken;
    volatile ReadResult result;

    ReadSink(ByteBuffer dst) {
      this.dst = dst;
    }

    @Override
    public ByteBuffer target(XdrReader r) throws org.xsm.nfs.rpc.XdrException {
      if (r.readInt() != NfsStatus.OK) {
        return null;
      }
      Nfs3Xdr.readPostOpAttr(r);
      int count = r.readInt();
      boolean eof = r.readBoolean();
      int len = r.readInt();
      if (len != count || len < 0 || len > dst.remaining()) {
        return null;
      }
      result = new ReadResult(count, eof);
      taken = true;
      return dst.duplicate().limit(dst.position() + len);
    }
  }

  private static ReadResult decodeRead(XdrReader r, ByteBuffer dst, FileHandle fh, long offset)
      throws IOException {
    int status = r.readInt();
    Nfs3Xdr.readPostOpAttr(r);
    if (status != NfsStatus.OK) {
      throw NfsStatus.exception(status, "READ", fh + " at " + offset);
    }
    int count = r.readInt();
    boolean eof = r.readBoolean();
    int got = r.readOpaqueInto(dst);
    if (got != count) {
      throw new NfsException(
          NfsStatus.OK, "READ reply count " + count + " but " + got + " data bytes");
    }
    return new ReadResult(count, eof);
  }

  /** Sends a WRITE of all of {@code data}, which must not change until the reply. */
  public CompletableFuture<WriteResult> writeAsync(
      FileHandle fh, long offset, ByteBuffer data, Stable stable) {
    int len = data.remaining();
    XdrWriter w = args(fh).writeLong(offset).writeInt(len).writeInt(stable.ordinal()).writeInt(len);
    return decoded(
        rpc.callAsync(WRITE, w.toBuffer(), data.duplicate(), XdrWriter.padding(len)),
        reply -> {
          XdrReader r = reply.body();
          int status = r.readInt();
          Nfs3Xdr.skipWcc(r);
          if (status != NfsStatus.OK) {
            throw NfsStatus.exception(status, "WRITE", fh + " at " + offset);
          }
          int count = r.readInt();
          int committed = r.readInt();
          if (committed < 0 || committed > 2) {
            throw new NfsException(NfsStatus.OK, "WRITE reply: bad stable_how " + committed);
          }
          return new WriteResult(count, Stable.values()[committed], r.readLong());
        });
  }

  /** Decodes a reply body; may fail as the protocol's errors do. */
  private interface Decoder<T> {
    T decode(Reply reply) throws IOException;
  }

  private static <T> CompletableFuture<T> decoded(
      CompletableFuture<Reply> call, Decoder<T> decoder) {
    return call.thenApply(
        reply -> {
          try {
            return decoder.decode(reply);
          } catch (IOException e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        });
  }

  /** Waits for an asynchronous READ or WRITE, unwrapping its failure. */
  public <T> T await(CompletableFuture<T> f) throws IOException {
    try {
      return f.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw e;
    }
  }

  /** COMMIT of the whole file; returns the write verifier to compare with the WRITE replies'. */
  public long commit(FileHandle fh) throws IOException {
    return await(commitAsync(fh));
  }

  /** Sends a COMMIT of the whole file; the future gives the write verifier. */
  public CompletableFuture<Long> commitAsync(FileHandle fh) {
    return decoded(
        rpc.callAsync(COMMIT, args(fh).writeLong(0).writeInt(0).toBuffer()),
        reply -> {
          XdrReader r = reply.body();
          int status = r.readInt();
          Nfs3Xdr.skipWcc(r);
          if (status != NfsStatus.OK) {
            throw NfsStatus.exception(status, "COMMIT", fh.toString());
          }
          return r.readLong();
        });
  }

  /**
   * CREATE GUARDED: fails with {@link FileAlreadyExistsException} if the name exists. If the call
   * had to be retransmitted the EXIST may be this client's own earlier attempt; callers that care
   * (locks) recognise their file by its content.
   */
  public Entry createGuarded(FileHandle dir, String name, int mode) throws IOException {
    XdrWriter w = args(dir).writeString(name).writeInt(1);
    Nfs3Xdr.writeSattr(w, mode, 0);
    return created(dir, name, call(CREATE, w, "CREATE", name).body());
  }

  /**
   * CREATE EXCLUSIVE with a verifier: exactly-once even across retransmissions (the server keeps
   * the verifier with the file and answers a repeated call with success). The mode is set with a
   * SETATTR afterwards, as RFC 1813 requires.
   */
  public Entry createExclusive(FileHandle dir, String name, long verifier, int mode)
      throws IOException {
    XdrWriter w = args(dir).writeString(name).writeInt(2).writeLong(verifier);
    Entry e = created(dir, name, call(CREATE, w, "CREATE", name).body());
    setattr(e.handle(), mode, -1);
    return new Entry(name, e.handle(), getattr(e.handle()));
  }

  private Entry created(FileHandle dir, String name, XdrReader r) throws IOException {
    FileHandle fh = Nfs3Xdr.readPostOpHandle(r);
    FileAttributes attrs = Nfs3Xdr.readPostOpAttr(r);
    if (fh == null) {
      return lookup(dir, name); // the server may omit the handle (RFC 1813 3.3.8)
    }
    return new Entry(name, fh, attrs);
  }

  /** MKDIR; an existing directory of that name is fine when {@code mayExist}. */
  public FileHandle mkdir(FileHandle dir, String name, int mode, boolean mayExist)
      throws IOException {
    XdrWriter w = args(dir).writeString(name);
    Nfs3Xdr.writeSattr(w, mode, -1);
    try {
      return created(dir, name, call(MKDIR, w, "MKDIR", name).body()).handle();
    } catch (FileAlreadyExistsException e) {
      if (!mayExist) {
        throw e;
      }
      Entry existing = lookup(dir, name);
      if (existing.attributes() != null && !existing.attributes().isDirectory()) {
        throw new java.nio.file.NotDirectoryException(name);
      }
      return existing.handle();
    }
  }

  /** REMOVE of a file (a retransmitted REMOVE that finds nothing counts as done). */
  public void remove(FileHandle dir, String name) throws IOException {
    call(REMOVE, args(dir).writeString(name), "REMOVE", name);
  }

  /** RMDIR of an empty directory. */
  public void rmdir(FileHandle dir, String name) throws IOException {
    call(RMDIR, args(dir).writeString(name), "RMDIR", name);
  }

  /** RENAME, atomic on the server, replacing the target. */
  public void rename(FileHandle fromDir, String from, FileHandle toDir, String to)
      throws IOException {
    XdrWriter w = args(fromDir).writeString(from);
    Nfs3Xdr.writeHandle(w, toDir);
    w.writeString(to);
    if (call(RENAME, w, "RENAME", from + " -> " + to) == null && lookupOrNull(toDir, to) == null) {
      throw new NoSuchFileException(from, null, "RENAME " + from + " -> " + to + ": NFS3ERR_NOENT");
    }
  }

  /** LOOKUP that returns null for a missing name. */
  public Entry lookupOrNull(FileHandle dir, String name) throws IOException {
    try {
      return lookup(dir, name);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /** All entries of a directory (READDIRPLUS, following cookies), without "." and "..". */
  public List<Entry> readdirplus(FileHandle dir) throws IOException {
    List<Entry> out = new ArrayList<>();
    long cookie = 0;
    long cookieVerifier = 0;
    while (true) {
      XdrWriter w = args(dir).writeLong(cookie).writeLong(cookieVerifier);
      w.writeInt(32 << 10).writeInt(256 << 10);
      XdrReader r = call(READDIRPLUS, w, "READDIRPLUS", dir.toString()).body();
      Nfs3Xdr.readPostOpAttr(r);
      cookieVerifier = r.readLong();
      boolean any = false;
      while (r.readBoolean()) {
        any = true;
        r.readLong(); // fileid
        String name = r.readString();
        cookie = r.readLong();
        FileAttributes attrs = Nfs3Xdr.readPostOpAttr(r);
        FileHandle fh = Nfs3Xdr.readPostOpHandle(r);
        if (!name.equals(".") && !name.equals("..")) {
          out.add(new Entry(name, fh, attrs));
        }
      }
      if (r.readBoolean() || !any) {
        return out;
      }
    }
  }

  public FsStat fsstat(FileHandle fh) throws IOException {
    XdrReader r = call(FSSTAT, args(fh), "FSSTAT", fh.toString()).body();
    Nfs3Xdr.readPostOpAttr(r);
    return new FsStat(r.readLong(), r.readLong(), r.readLong());
  }

  public FsInfo fsinfo(FileHandle fh) throws IOException {
    XdrReader r = call(FSINFO, args(fh), "FSINFO", fh.toString()).body();
    Nfs3Xdr.readPostOpAttr(r);
    int rtmax = r.readInt();
    int rtpref = r.readInt();
    r.readInt(); // rtmult
    int wtmax = r.readInt();
    int wtpref = r.readInt();
    return new FsInfo(rtmax, rtpref, wtmax, wtpref);
  }

  @Override
  public void close() {
    rpc.close();
  }
}
