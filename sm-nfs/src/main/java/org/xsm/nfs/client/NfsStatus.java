package org.xsm.nfs.client;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * NFSv3 status codes (nfsstat3, RFC 1813 2.6) and their mapping to the JDK's file exceptions, so
 * that the image-store contract ("NoSuchFileException if the name does not exist") holds over NFS
 * and "no space" reads the same as for local files.
 */
public final class NfsStatus {
  public static final int OK = 0;
  public static final int NOENT = 2;
  public static final int EXIST = 17;
  public static final int NOTDIR = 20;
  public static final int NOSPC = 28;
  public static final int ROFS = 30;
  public static final int NOTEMPTY = 66;
  public static final int DQUOT = 69;
  public static final int STALE = 70;
  public static final int JUKEBOX = 10008;

  private NfsStatus() {}

  /** The symbolic name of a status, e.g. "NFS3ERR_NOENT". */
  public static String name(int status) {
    return switch (status) {
      case 0 -> "NFS3_OK";
      case 1 -> "NFS3ERR_PERM";
      case 2 -> "NFS3ERR_NOENT";
      case 5 -> "NFS3ERR_IO";
      case 6 -> "NFS3ERR_NXIO";
      case 13 -> "NFS3ERR_ACCES";
      case 17 -> "NFS3ERR_EXIST";
      case 18 -> "NFS3ERR_XDEV";
      case 19 -> "NFS3ERR_NODEV";
      case 20 -> "NFS3ERR_NOTDIR";
      case 21 -> "NFS3ERR_ISDIR";
      case 22 -> "NFS3ERR_INVAL";
      case 27 -> "NFS3ERR_FBIG";
      case 28 -> "NFS3ERR_NOSPC";
      case ROFS -> "NFS3ERR_ROFS";
      case 31 -> "NFS3ERR_MLINK";
      case 63 -> "NFS3ERR_NAMETOOLONG";
      case 66 -> "NFS3ERR_NOTEMPTY";
      case 69 -> "NFS3ERR_DQUOT";
      case 70 -> "NFS3ERR_STALE";
      case 71 -> "NFS3ERR_REMOTE";
      case 10001 -> "NFS3ERR_BADHANDLE";
      case 10002 -> "NFS3ERR_NOT_SYNC";
      case 10003 -> "NFS3ERR_BAD_COOKIE";
      case 10004 -> "NFS3ERR_NOTSUPP";
      case 10005 -> "NFS3ERR_TOOSMALL";
      case 10006 -> "NFS3ERR_SERVERFAULT";
      case 10007 -> "NFS3ERR_BADTYPE";
      case 10008 -> "NFS3ERR_JUKEBOX";
      default -> "NFS3ERR_" + status;
    };
  }

  /** The exception for a failed call on {@code what} (a file name or path). */
  public static IOException exception(int status, String op, String what) {
    String m = op + " " + what + ": " + name(status);
    return switch (status) {
      case NOENT -> new NoSuchFileException(what, null, m);
      // A handle whose file was removed (by another client): gone, as NOENT.
      case STALE -> new NoSuchFileException(what, null, m + " (the file was removed)");
      case EXIST -> new FileAlreadyExistsException(what, null, m);
      case NOTDIR -> new NotDirectoryException(what);
      case NOTEMPTY -> new DirectoryNotEmptyException(what);
      case 1, 13 -> new AccessDeniedException(what, null, m);
      // The words SmErrors recognises, as a local filesystem reports them.
      case NOSPC -> new NfsException(status, m + " (No space left on device)");
      case DQUOT -> new NfsException(status, m + " (Disk quota exceeded)");
      default -> new NfsException(status, m);
    };
  }
}
