package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.function.BooleanSupplier;
import org.xsm.plugins.store.ForwardingImageStore;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * The SR's store as every part of the SR sees it, telling the in-memory model ({@link SrModel})
 * when someone other than a model-keeping operation changes a file the model describes ({@code
 * <uuid>.vhd}, {@code <uuid>.meta}): a create, rename or delete of such a name, or opening one for
 * writing. The garbage collector and crash recovery change the tree that way, so the model is
 * rebuilt after them without either having to know about it. Data written through an already open
 * file (a device's I/O) is not a change of the tree.
 */
final class TrackedStore extends ForwardingImageStore {
  private final BooleanSupplier keepsModel;
  private final Runnable invalidate;

  /**
   * @param keepsModel true while the calling thread runs an operation that updates the model itself
   * @param invalidate makes the model stale
   */
  TrackedStore(ImageStore store, BooleanSupplier keepsModel, Runnable invalidate) {
    super(store);
    this.keepsModel = keepsModel;
    this.invalidate = invalidate;
  }

  private void changing(String name) {
    if ((name.endsWith(".vhd") || name.endsWith(".meta")) && !keepsModel.getAsBoolean()) {
      invalidate.run();
    }
  }

  @Override
  public ImageFile create(String name) throws IOException {
    changing(name);
    return super.create(name);
  }

  @Override
  public ImageFile open(String name, boolean writable) throws IOException {
    if (writable) {
      changing(name);
    }
    return super.open(name, writable);
  }

  @Override
  public void rename(String from, String to) throws IOException {
    changing(from);
    changing(to);
    super.rename(from, to);
  }

  @Override
  public void delete(String name) throws IOException {
    changing(name);
    super.delete(name);
  }
}
