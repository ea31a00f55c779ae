package org.xsm.nfs.client;

import org.xsm.nfs.rpc.XdrException;
import org.xsm.nfs.rpc.XdrReader;
import org.xsm.nfs.rpc.XdrWriter;

/** Encoders and decoders of the NFSv3 data types shared by several procedures (RFC 1813 2.5). */
final class Nfs3Xdr {
  private Nfs3Xdr() {}

  static void writeHandle(XdrWriter w, FileHandle fh) {
    w.writeOpaque(fh.raw());
  }

  static FileHandle readHandle(XdrReader r) throws XdrException {
    byte[] b = r.readOpaque(64);
    if (b.length == 0) {
      throw new XdrException("empty NFSv3 file handle");
    }
    return new FileHandle(b);
  }

  static FileAttributes readFattr(XdrReader r) throws XdrException {
    int type = r.readInt();
    int mode = r.readInt();
    r.readInt(); // nlink
    r.readInt(); // uid
    r.readInt(); // gid
    long size = r.readLong();
    long used = r.readLong();
    r.readLong(); // rdev
    r.readLong(); // fsid
    long fileId = r.readLong();
    readTime(r); // atime
    long mtime = readTime(r);
    long ctime = readTime(r);
    return new FileAttributes(type, mode, size, used, fileId, mtime, ctime);
  }

  private static long readTime(XdrReader r) throws XdrException {
    long seconds = r.readInt() & 0xffffffffL;
    long nanos = r.readInt() & 0xffffffffL;
    return seconds * 1_000_000_000L + nanos;
  }

  /** post_op_attr: the attributes, or null if the server sent none. */
  static FileAttributes readPostOpAttr(XdrReader r) throws XdrException {
    return r.readBoolean() ? readFattr(r) : null;
  }

  /** wcc_data: skipped, this client does not cache attributes. */
  static void skipWcc(XdrReader r) throws XdrException {
    if (r.readBoolean()) {
      r.skip(24); // wcc_attr: size, mtime, ctime
    }
    readPostOpAttr(r);
  }

  /** post_op_fh3: the handle, or null. */
  static FileHandle readPostOpHandle(XdrReader r) throws XdrException {
    return r.readBoolean() ? readHandle(r) : null;
  }

  /**
   * sattr3 setting only what is given.
   *
   * @param mode the permission bits, or -1 to leave them
   * @param size the size, or -1 to leave it
   */
  static void writeSattr(XdrWriter w, int mode, long size) {
    w.writeBoolean(mode >= 0);
    if (mode >= 0) {
      w.writeInt(mode);
    }
    w.writeBoolean(false); // uid
    w.writeBoolean(false); // gid
    w.writeBoolean(size >= 0);
    if (size >= 0) {
      w.writeLong(size);
    }
    w.writeInt(0); // atime: DONT_CHANGE
    w.writeInt(0); // mtime: DONT_CHANGE
  }
}
