package org.xsm.plugins.store;

import java.io.IOException;
import java.util.List;

/**
 * An {@link ImageStore} that passes every call to another one; subclasses override the calls they
 * watch or change (as Lucene's {@code FilterDirectory}). Same contract as the store it wraps.
 */
public class ForwardingImageStore implements ImageStore {
  protected final ImageStore delegate;

  public ForwardingImageStore(ImageStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public ImageFile create(String name) throws IOException {
    return delegate.create(name);
  }

  @Override
  public ImageFile open(String name, boolean writable) throws IOException {
    return delegate.open(name, writable);
  }

  @Override
  public boolean exists(String name) throws IOException {
    return delegate.exists(name);
  }

  @Override
  public void rename(String from, String to) throws IOException {
    delegate.rename(from, to);
  }

  @Override
  public void delete(String name) throws IOException {
    delegate.delete(name);
  }

  @Override
  public List<String> list() throws IOException {
    return delegate.list();
  }

  @Override
  public List<StoreEntry> listEntries() throws IOException {
    return delegate.listEntries();
  }

  @Override
  public StoreEntry entry(String name) throws IOException {
    return delegate.entry(name);
  }

  @Override
  public long sizeOf(String name) throws IOException {
    return delegate.sizeOf(name);
  }

  @Override
  public void syncMetadata() throws IOException {
    delegate.syncMetadata();
  }

  @Override
  public long capacityBytes() throws IOException {
    return delegate.capacityBytes();
  }

  @Override
  public long freeBytes() throws IOException {
    return delegate.freeBytes();
  }

  @Override
  public String describe(String name) {
    return delegate.describe(name);
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
