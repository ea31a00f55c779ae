package org.xsm.plugins.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What every format's chain shares: its layers (leaf first, the leaf writable if asked), opening
 * them with each link checked (the parent exists, no cycle, not deeper than a limit, and the
 * format's own check), range checks, zero fill and closing.
 *
 * @param <L> one image file of the format
 */
public abstract class LayeredChain<L extends Closeable> implements DiskChain {
  /** Longest chain an engine opens; far beyond xapi's snapshot limit of 30. */
  public static final int MAX_DEPTH = 256;

  private static final byte[] ZEROS = new byte[64 * 1024];

  private final List<L> layers;

  /** Read-ahead of a chain of several files (null for one file: the kernel reads ahead there). */
  private final ReadAhead readAhead;

  protected LayeredChain(List<L> layers) {
    this.layers = List.copyOf(layers);
    this.readAhead =
        layers.size() > 1
            ? new ReadAhead(this::planReads, this::virtualSizeBytes, layers.size())
            : null;
  }

  /** The file reads of {@code length} bytes of the disk at {@code offset}, for read-ahead. */
  protected abstract List<FileRead> planReads(long offset, int length) throws IOException;

  /**
   * Fills {@code dst} with bytes at {@code offset} of layer {@code layer}'s file: what read-ahead
   * read of them, the rest by {@code reader}. Every data read of a plan goes through here.
   */
  protected final void readLayer(int layer, ByteBuffer dst, long offset, FileRead.Reader reader)
      throws IOException {
    if (readAhead == null) {
      reader.read(dst, offset);
    } else {
      readAhead.readLayer(layer, dst, offset, reader);
    }
  }

  /**
   * After every data write of the leaf's file, also a failed one (plans read only data ranges, so
   * metadata writes need not call it): what read-ahead read of the leaf is dropped, its reads in
   * flight thrown away.
   */
  protected final void leafWritten() {
    if (readAhead != null) {
      readAhead.written(0);
    }
  }

  /** Waits until read-ahead has no window being planned or read: a condition for tests. */
  public final void awaitReadAhead() throws InterruptedException {
    if (readAhead != null) {
      readAhead.awaitIdle();
    }
  }

  /** Bytes read ahead and handed to this chain's reads so far (0 for a single file). */
  public final long readAheadHandedBytes() {
    return readAhead == null ? 0 : readAhead.handedBytes();
  }

  /**
   * Tells read-ahead of a read of the disk, before it is done; returns whether the read may use
   * {@link ParallelReads}' threads: not within a sequential run of reads, whose runs read-ahead
   * brings into the page cache (or which are there already), where handing them to other threads
   * costs more than it saves (measured on 2 busy cores: a quarter of the throughput).
   */
  protected final boolean readingAhead(long offset, int length) {
    return readAhead == null || !readAhead.onRead(offset, length);
  }

  /** How a format opens one layer and follows and checks a link to its parent. */
  protected interface Links<L> {
    L open(String name, boolean writable) throws IOException;

    /** The parent's file name, if {@code child} has one. */
    Optional<String> parentName(L child) throws IOException;

    /** The format's check that {@code parent} is the image {@code child} was made on. */
    void check(L child, L parent) throws IOException;

    /** The format's error for a broken link of {@code child}. */
    IOException broken(L child, String what);

    /** The format's error for the chain of {@code leaf} (as described by the store) as a whole. */
    IOException badChain(String leaf, String what);

    /** What the format calls a parent ("backing file" in qcow2). */
    default String parentWord() {
      return "parent";
    }
  }

  /**
   * Opens {@code leaf} and its parents, taking those in {@code openParents} (file name to an image
   * already open read-only) instead of opening them again; the images used are removed from the
   * map. On failure, every layer opened here is closed.
   */
  protected static <L extends Closeable> List<L> openLayers(
      ImageStore store, String leaf, boolean writable, Map<String, L> openParents, Links<L> links)
      throws IOException {
    List<L> layers = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    try {
      L img = links.open(leaf, writable);
      layers.add(img);
      seen.add(leaf);
      Optional<String> next = links.parentName(img);
      while (next.isPresent()) {
        String parentName = next.get();
        if (!seen.add(parentName)) {
          throw links.badChain(store.describe(leaf), "has a cycle at " + parentName);
        }
        if (layers.size() >= MAX_DEPTH) {
          throw links.badChain(store.describe(leaf), "is deeper than " + MAX_DEPTH);
        }
        L parent = openParents.remove(parentName);
        try {
          if (parent == null) {
            parent = links.open(parentName, false);
          }
        } catch (NoSuchFileException e) {
          throw links.broken(
              img, links.parentWord() + " " + store.describe(parentName) + " not found");
        }
        layers.add(parent);
        links.check(img, parent);
        img = parent;
        next = links.parentName(img);
      }
      return layers;
    } catch (IOException | RuntimeException e) {
      IoActions.forAll(layers, Closeable::close);
      throw e;
    }
  }

  /** The layers, leaf first. */
  public final List<L> layers() {
    return layers;
  }

  public final L leaf() {
    return layers.get(0);
  }

  /** Number of files in the chain (1 for a disk without parent). */
  @Override
  public final int depth() {
    return layers.size();
  }

  /** Throws unless {@code offset..offset+length} lies within the disk. */
  protected final void checkRange(long offset, int length) {
    if (offset < 0 || length < 0 || offset > virtualSizeBytes() - length) {
      throw new IndexOutOfBoundsException(
          "range "
              + offset
              + "+"
              + length
              + " is outside the disk of "
              + virtualSizeBytes()
              + " bytes");
    }
  }

  /** Fills what remains of {@code dst} with zeros. */
  public static void fillZeros(ByteBuffer dst) {
    zero(dst);
  }

  /** Fills what remains of {@code dst} with zeros. */
  protected static void zero(ByteBuffer dst) {
    while (dst.hasRemaining()) {
      dst.put(ZEROS, 0, Math.min(dst.remaining(), ZEROS.length));
    }
  }

  /** Stops read-ahead (waiting for its reads in progress); before any layer is closed. */
  protected final void stopReadAhead() {
    if (readAhead != null) {
      readAhead.close();
    }
  }

  @Override
  public void close() throws IOException {
    stopReadAhead();
    IoActions.forAll(layers, Closeable::close);
  }
}
