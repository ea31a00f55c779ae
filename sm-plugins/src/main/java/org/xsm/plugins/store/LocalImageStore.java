package org.xsm.plugins.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
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
    FileChannel ch =
        FileChannel.open(
            p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
    return new LocalImageFile(name, ch);
  }

  @Override
  public ImageFile open(String name, boolean writable) throws IOException {
    Path p = resolve(name);
    FileChannel ch =
        writable
            ? FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)
            : FileChannel.open(p, StandardOpenOption.READ);
    return new LocalImageFile(name, ch);
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

  @Override
  public void syncMetadata() throws IOException {
    // fsync of the directory makes creates, renames and deletes in it durable (Linux).
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
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
    private final FileChannel ch;

    LocalImageFile(String name, FileChannel ch) {
      this.name = name;
      this.ch = ch;
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
      long now = ch.size();
      if (sizeBytes < now) {
        ch.truncate(sizeBytes);
      } else if (sizeBytes > now) {
        // FileChannel.truncate never grows; writing the last byte leaves a hole before it.
        ch.write(ByteBuffer.allocate(1), sizeBytes - 1);
      }
    }

    @Override
    public void force() throws IOException {
      ch.force(false);
    }

    @Override
    public void close() throws IOException {
      ch.close();
    }
  }
}
