package org.xsm.iscsi.array.pool;

import java.util.Arrays;

/** A growable stack of block numbers (free, pending and just-released lists). Not thread-safe. */
final class IntStack {
  private int[] items = new int[1024];
  private int size;

  void push(int v) {
    if (size == items.length) {
      items = Arrays.copyOf(items, size * 2);
    }
    items[size++] = v;
  }

  int pop() {
    return items[--size];
  }

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  void clear() {
    size = 0;
  }

  /** Moves every item onto {@code other}. */
  void drainTo(IntStack other) {
    while (size > 0) {
      other.push(items[--size]);
    }
  }
}
