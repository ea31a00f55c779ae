package org.xsm.plugins.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * A store whose files' writes fail with {@link #failure} while it is set (a full store: "No space
 * left on device", or an NFS status), for the tests of what runs out of space. {@link #onDelete}
 * sees every name deleted (a test frees space by it).
 */
public class FailingWritesStore extends ForwardingImageStore {
  /** What every write throws now; null: writes go through. */
  public volatile IOException failure;

  /** Told of every delete, by name. */
  public volatile Consumer<String> onDelete = name -> {};

  public FailingWritesStore(ImageStore delegate) {
    super(delegate);
  }

  @Override
  public ImageFile create(String name) throws IOException {
    return new Failing(super.create(name));
  }

  @Override
  public ImageFile open(String name, boolean writable) throws IOException {
    return new Failing(super.open(name, writable));
  }

  @Override
  public void delete(String name) throws IOException {
    super.delete(name);
    onDelete.accept(name);
  }

  private final class Failing extends ForwardingImageFile {
    Failing(ImageFile f) {
      super(f);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      IOException e = failure;
      if (e != null) {
        throw e;
      }
      return delegate.write(src, position);
    }
  }
}
