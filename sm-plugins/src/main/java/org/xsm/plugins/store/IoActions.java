package org.xsm.plugins.store;

import java.io.IOException;
import java.util.Collection;

/** Running one I/O action over many items when every item must get its turn (closing, resuming). */
public final class IoActions {
  private IoActions() {}

  /** An action on one item. */
  @FunctionalInterface
  public interface Action<T> {
    void run(T item) throws IOException;
  }

  /**
   * Runs {@code action} on every item, even after a failure; then throws the first failure, with
   * the later ones added to it as suppressed.
   */
  public static <T> void forAll(Collection<? extends T> items, Action<T> action)
      throws IOException {
    IOException first = null;
    for (T item : items) {
      try {
        action.run(item);
      } catch (IOException e) {
        first = merge(first, e);
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** {@code first}, or {@code next} if there is no first yet; later failures become suppressed. */
  public static IOException merge(IOException first, IOException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }
}
