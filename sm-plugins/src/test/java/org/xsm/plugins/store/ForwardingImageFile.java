package org.xsm.plugins.store;

import java.io.IOException;
import java.nio.ByteBuffer;

/** An {@link ImageFile} that does what another one does; tests override what they watch. */
public class ForwardingImageFile implements ImageFile {
  protected final ImageFile delegate;

  public ForwardingImageFile(ImageFile delegate) {
    this.delegate = delegate;
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return delegate.read(dst, position);
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    return delegate.write(src, position);
  }

  @Override
  public long size() throws IOException {
    return delegate.size();
  }

  @Override
  public void truncate(long sizeBytes) throws IOException {
    delegate.truncate(sizeBytes);
  }

  @Override
  public void force() throws IOException {
    delegate.force();
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
