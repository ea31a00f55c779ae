package org.xsm.plugins.store;

/**
 * A file of an {@link ImageStore} as a directory listing shows it: its name, size and last
 * modification time. Used to tell whether a file changed since it was last read without reading it.
 *
 * @param name the file name
 * @param sizeBytes its size
 * @param modifiedNanos its modification time in nanoseconds since the epoch, as precise as the
 *     storage keeps it; {@link #UNKNOWN_TIME} when the store cannot tell (then the entry never
 *     proves a file unchanged)
 */
public record StoreEntry(String name, long sizeBytes, long modifiedNanos) {
  /** The modification time of stores that do not report one. */
  public static final long UNKNOWN_TIME = Long.MIN_VALUE;

  /**
   * Whether this entry and {@code other} describe the same, unchanged file version as far as a
   * listing can tell: same size and same known modification time. A change that keeps the size and
   * lands within the storage's timestamp granularity of the previous one is not seen.
   */
  public boolean sameVersionAs(StoreEntry other) {
    return other != null
        && modifiedNanos != UNKNOWN_TIME
        && sizeBytes == other.sizeBytes
        && modifiedNanos == other.modifiedNanos;
  }
}
