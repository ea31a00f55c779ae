package org.xsm.plugins.store;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;

/**
 * A flat namespace of image files: what the VHD engine and the VHD-tree SRs see of a directory,
 * whether it is local or on an NFS export.
 *
 * <p>Durability contract (the same as POSIX files): data written through an {@link ImageFile} is
 * durable only after {@link ImageFile#force()}; the existence of a created, renamed or deleted name
 * is durable only after {@link #syncMetadata()}. {@link #rename} is atomic: after a crash the
 * target holds either its old content or the renamed file, never a mix. Regions of a file that were
 * never written (holes left by writing past the end, or by {@link ImageFile#truncate} growing the
 * file) read as zeros; the VHD engine relies on this to allocate zero-filled blocks without writing
 * the zeros.
 *
 * <p>Implementations are thread-safe; the files they hand out are safe for concurrent positional
 * I/O.
 */
public interface ImageStore extends Closeable {

  /**
   * Creates a new, empty file.
   *
   * @throws java.nio.file.FileAlreadyExistsException if the name exists
   */
  ImageFile create(String name) throws IOException;

  /**
   * Opens an existing file.
   *
   * @throws java.nio.file.NoSuchFileException if the name does not exist
   */
  ImageFile open(String name, boolean writable) throws IOException;

  /** Whether a file of that name exists. */
  boolean exists(String name) throws IOException;

  /** Atomically renames {@code from} to {@code to}, replacing {@code to} if it exists. */
  void rename(String from, String to) throws IOException;

  /**
   * Deletes a file.
   *
   * @throws java.nio.file.NoSuchFileException if the name does not exist
   */
  void delete(String name) throws IOException;

  /** The names of all files, in no particular order. */
  List<String> list() throws IOException;

  /**
   * Every file with its size and modification time, in no particular order. The default opens each
   * file for its size and reports no time ({@link StoreEntry#UNKNOWN_TIME}); stores that list with
   * attributes (a local directory, NFS READDIRPLUS) override it.
   */
  default List<StoreEntry> listEntries() throws IOException {
    List<StoreEntry> out = new java.util.ArrayList<>();
    for (String name : list()) {
      try (ImageFile f = open(name, false)) {
        out.add(new StoreEntry(name, f.size(), StoreEntry.UNKNOWN_TIME));
      } catch (java.nio.file.NoSuchFileException e) {
        // Deleted between the listing and the open: it is not there any more.
      }
    }
    return out;
  }

  /**
   * One file as {@link #listEntries} would list it. The default reports its size and no time.
   *
   * @throws java.nio.file.NoSuchFileException if the name does not exist
   */
  default StoreEntry entry(String name) throws IOException {
    return new StoreEntry(name, sizeOf(name), StoreEntry.UNKNOWN_TIME);
  }

  /**
   * The size of a file.
   *
   * @throws java.nio.file.NoSuchFileException if the name does not exist
   */
  default long sizeOf(String name) throws IOException {
    try (ImageFile f = open(name, false)) {
      return f.size();
    }
  }

  /** Makes earlier creates, renames and deletes durable. */
  void syncMetadata() throws IOException;

  /** Capacity of the storage under this store in bytes, or -1 if unknown. */
  default long capacityBytes() throws IOException {
    return -1;
  }

  /** Free space in bytes, or -1 if unknown. */
  default long freeBytes() throws IOException {
    return -1;
  }

  /** A human-readable location of a file for messages, such as its path. */
  String describe(String name);

  /** Releases resources; files already opened stay usable until closed. */
  @Override
  default void close() throws IOException {}
}
