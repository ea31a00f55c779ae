package org.xsm.plugins.store;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** An {@link ImageStore} over a local directory, with {@link FileChannel}s. */
public final class LocalImageStore implements ImageStore {
  private final Path dir;

  private LocalImageStore(Path dir) {
    this.dir = dir;
  }

  /**
   * Opens a store over an existing directory.
   *
   * @throws java.nio.file.NotDirectoryException if {@code dir} is not a directory
   */
  public static LocalImageStore open(Path dir) throws IOException {
    Path real = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(real)) {
      throw new java.nio.file.NotDirectoryException(real.toString());
    }
    return new LocalImageStore(real);
  }

  /** The directory this store covers. */
  public Path directory() {
    return dir;
  }

  private Path resolve(String name) {
    if (name.isEmpty()
        || name.indexOf('/') >= 0
        || name.indexOf('\0') >= 0
        || name.equals(".")
        || name.equals("..")) {
      throw new IllegalArgumentException("not a plain file name: '" + name + "'");
    }
    return dir.resolve(name);
  }

  @Override
  public ImageFile create(String name) throws IOException {
    Path p = resolve(name);
    FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
    return new LocalImageFile(name, new RandomAccessFile(p.toFile(), "rw"));
  }

  @Override
  public ImageFile open(String name, boolean writable) throws IOException {
    Path p = resolve(name);
    if (!Files.isRegularFile(p)) {
      throw new NoSuchFileException(p.toString());
    }
    return new LocalImageFile(name, new RandomAccessFile(p.toFile(), writable ? "rw" : "r"));
  }

  @Override
  public boolean exists(String name) {
    return Files.exists(resolve(name));
  }

  @Override
  public void rename(String from, String to) throws IOException {
    Files.move(
        resolve(from),
        resolve(to),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public void delete(String name) throws IOException {
    Files.delete(resolve(name));
  }

  @Override
  public List<String> list() throws IOException {
    List<String> names = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(Files::isRegularFile).forEach(p -> names.add(p.getFileName().toString()));
    }
    return names;
  }

  /** One directory read; each entry's attributes cost one {@code stat}, no open. */
  @Override
  public List<StoreEntry> listEntries() throws IOException {
    List<StoreEntry> out = new ArrayList<>();
    try (java.nio.file.DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        StoreEntry e;
        try {
          e = entryOf(p);
        } catch (NoSuchFileException x) {
          continue; // deleted since the directory was read
        }
        if (e != null) {
          out.add(e);
        }
      }
    }
    return out;
  }

  @Override
  public StoreEntry entry(String name) throws IOException {
    StoreEntry e = entryOf(resolve(name));
    if (e == null) {
      throw new NoSuchFileException(describe(name), null, "not a regular file");
    }
    return e;
  }

  /** The entry of a regular file (one {@code stat}), or null for anything else. */
  private static StoreEntry entryOf(Path p) throws IOException {
    java.nio.file.attribute.BasicFileAttributes a =
        Files.readAttributes(
            p,
            java.nio.file.attribute.BasicFileAttributes.class,
            java.nio.file.LinkOption.NOFOLLOW_LINKS);
    if (!a.isRegularFile()) {
      return null;
    }
    long nanos = a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS);
    return new StoreEntry(p.getFileName().toString(), a.size(), nanos);
  }

  @Override
  public long sizeOf(String name) throws IOException {
    return Files.size(resolve(name));
  }

  @Override
  public void syncMetadata() throws IOException {
    // fsync of the directory makes creates, renames and deletes in it durable (Linux).
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  @Override
  public long capacityBytes() throws IOException {
    return Files.getFileStore(dir).getTotalSpace();
  }

  @Override
  public long freeBytes() throws IOException {
    return Files.getFileStore(dir).getUsableSpace();
  }

  @Override
  public String describe(String name) {
    return dir.resolve(name).toString();
  }

  @Override
  public String toString() {
    return "LocalImageStore[" + dir + "]";
  }

  private static final class LocalImageFile implements ImageFile {
    private final String name;
    private final RandomAccessFile raf;
    private final FileChannel ch;

    LocalImageFile(String name, RandomAccessFile raf) {
      this.name = name;
      this.raf = raf;
      this.ch = raf.getChannel();
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return ch.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      return ch.write(src, position);
    }

    @Override
    public long size() throws IOException {
      return ch.size();
    }

    @Override
    public void truncate(long sizeBytes) throws IOException {
      // ftruncate: shrinking drops the tail, growing leaves a hole that reads as zeros.
      raf.setLength(sizeBytes);
    }

    @Override
    public void force() throws IOException {
      ch.force(false);
    }

    @Override
    public void close() throws IOException {
      raf.close();
    }
  }
}
