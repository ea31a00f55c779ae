package org.xsm.nfs.client;

/**
 * The NFSv3 attributes of a file (fattr3) that this client uses.
 *
 * @param type 1 regular file, 2 directory, 3 block device, 4 character device, 5 symbolic link, 6
 *     socket, 7 FIFO (ftype3)
 * @param mode permission bits
 * @param sizeBytes the file's size
 * @param usedBytes the disk space the file uses
 * @param fileId the file's number in its filesystem
 * @param mtimeNanos modification time, nanoseconds since the epoch
 * @param ctimeNanos change time, nanoseconds since the epoch
 */
public record FileAttributes(
    int type,
    int mode,
    long sizeBytes,
    long usedBytes,
    long fileId,
    long mtimeNanos,
    long ctimeNanos) {
  public static final int REGULAR = 1;
  public static final int DIRECTORY = 2;

  public boolean isRegular() {
    return type == REGULAR;
  }

  public boolean isDirectory() {
    return type == DIRECTORY;
  }
}
