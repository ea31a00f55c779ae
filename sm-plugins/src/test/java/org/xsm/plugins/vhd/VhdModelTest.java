package org.xsm.plugins.vhd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xsm.plugins.store.LocalImageStore;

/**
 * Model-based test: thousands of random writes, snapshots, coalesces (of the leaf and of inner
 * nodes, with re-parenting), resizes, hidden-flag changes and reopens against an in-memory byte
 * model of every disk in the chain, on chains up to 30 deep. After every operation the leaf is
 * spot-checked; periodically every disk of the chain is read in full and {@link Vhd#check} must
 * find nothing.
 */
class VhdModelTest {
  private static final int MIB = 1024 * 1024;
  private static final int MAX_DEPTH = 30;

  @TempDir Path dir;

  private LocalImageStore store;
  private Random rnd;

  /** Chain of file names, root first; the last is the writable leaf. */
  private final List<String> chain = new ArrayList<>();

  /** Expected content of the disk seen through each file. */
  private final Map<String, byte[]> model = new HashMap<>();

  private VhdChain open;
  private int nameCounter;

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void randomOperationsMatchTheModel(long seed) throws IOException {
    store = LocalImageStore.open(dir);
    rnd = new Random(seed);
    String root = newName();
    boolean fixedRoot = seed == 3;
    int size = (4 + rnd.nextInt(6)) * 2 * MIB;
    if (fixedRoot) {
      VhdCreator.createFixed(store, root, size).close();
    } else {
      VhdCreator.createDynamic(store, root, size).close();
    }
    chain.add(root);
    model.put(root, new byte[size]);
    int maxDepthSeen = 1;
    int snapshots = 0;
    int coalesces = 0;
    for (int op = 0; op < 1500; op++) {
      int r = rnd.nextInt(100);
      if (r < 60) {
        write();
      } else if (r < 72) {
        if (chain.size() >= MAX_DEPTH) {
          coalesceLeaf();
          coalesces++;
        } else {
          snapshot();
          snapshots++;
        }
      } else if (r < 78 && chain.size() > 1) {
        coalesceLeaf();
        coalesces++;
      } else if (r < 84 && chain.size() > 2) {
        coalesceInner();
        coalesces++;
      } else if (r < 88) {
        resize();
      } else if (r < 92) {
        reopen();
      } else if (r < 94) {
        toggleHidden();
      } else {
        verifyLeafRange();
      }
      maxDepthSeen = Math.max(maxDepthSeen, chain.size());
      verifyLeafRange();
      if (op % 250 == 249) {
        verifyEverything();
      }
    }
    verifyEverything();
    assertThat(snapshots).isGreaterThan(100);
    assertThat(coalesces).isGreaterThan(50);
    closeOpen();
  }

  /** Fills the chain to 30 deep, then checks every level reads its own frozen content. */
  @ParameterizedTest
  @ValueSource(longs = {7})
  void thirtyDeepChainKeepsEveryLevel(long seed) throws IOException {
    store = LocalImageStore.open(dir);
    rnd = new Random(seed);
    String root = newName();
    VhdCreator.createDynamic(store, root, 8 * MIB).close();
    chain.add(root);
    model.put(root, new byte[8 * MIB]);
    while (chain.size() < MAX_DEPTH) {
      for (int i = 0; i < 5; i++) {
        write();
      }
      snapshot();
    }
    write();
    verifyEverything();
    closeOpen();
  }

  private String newName() {
    return "d" + (nameCounter++) + ".vhd";
  }

  private String leaf() {
    return chain.get(chain.size() - 1);
  }

  private VhdChain leafChain() throws IOException {
    if (open == null) {
      open = VhdChain.open(store, leaf(), true);
      assertThat(open.depth()).isEqualTo(chain.size());
    }
    return open;
  }

  private void closeOpen() throws IOException {
    if (open != null) {
      open.close();
      open = null;
    }
  }

  private void write() throws IOException {
    byte[] m = model.get(leaf());
    int len;
    int off;
    switch (rnd.nextInt(4)) {
      case 0 -> { // small, unaligned
        len = 1 + rnd.nextInt(3000);
        off = rnd.nextInt(m.length - len + 1);
      }
      case 1 -> { // 4 KiB aligned
        len = 4096 * (1 + rnd.nextInt(16));
        off = 4096 * rnd.nextInt((m.length - len) / 4096 + 1);
      }
      case 2 -> { // a whole block
        len = 2 * MIB;
        off = 2 * MIB * rnd.nextInt(m.length / (2 * MIB));
      }
      default -> { // spanning blocks
        len = 1 + rnd.nextInt(3 * MIB);
        off = rnd.nextInt(m.length - len + 1);
      }
    }
    byte[] data = new byte[len];
    rnd.nextBytes(data);
    if (rnd.nextInt(5) == 0) {
      Arrays.fill(data, (byte) 0);
    }
    leafChain().write(ByteBuffer.wrap(data), off);
    System.arraycopy(data, 0, m, off, len);
  }

  private void snapshot() throws IOException {
    closeOpen();
    String parent = leaf();
    String child = newName();
    Vhd.snapshot(store, child, parent);
    chain.add(child);
    model.put(child, model.get(parent).clone());
  }

  /** Merge the leaf into its parent; the parent becomes the leaf (xapi's leaf-coalesce). */
  private void coalesceLeaf() throws IOException {
    closeOpen();
    String leaf = leaf();
    String parent = chain.get(chain.size() - 2);
    Vhd.coalesce(store, leaf);
    store.delete(leaf);
    chain.remove(chain.size() - 1);
    // The parent, grown to the leaf's size if needed, now holds exactly what the leaf showed.
    model.put(parent, model.remove(leaf));
  }

  /** Merge an inner node into its parent and re-parent its child (xapi's coalesce). */
  private void coalesceInner() throws IOException {
    closeOpen();
    int i = 1 + rnd.nextInt(chain.size() - 2);
    String node = chain.get(i);
    String parent = chain.get(i - 1);
    String child = chain.get(i + 1);
    Vhd.coalesce(store, node);
    Vhd.setParent(store, child, parent);
    store.delete(node);
    chain.remove(i);
    byte[] merged = model.remove(node);
    model.put(parent, merged);
    // The child's content must not change: its sectors, then the merged parent's.
    verifyDisk(child);
  }

  private void resize() throws IOException {
    closeOpen();
    byte[] m = model.get(leaf());
    if (m.length >= 40 * MIB) {
      return;
    }
    int newSize = m.length + (1 + rnd.nextInt(3)) * 2 * MIB;
    Vhd.resize(store, leaf(), newSize);
    model.put(leaf(), Arrays.copyOf(m, newSize));
  }

  private void reopen() throws IOException {
    closeOpen();
  }

  private void toggleHidden() throws IOException {
    closeOpen();
    String name = chain.get(rnd.nextInt(chain.size()));
    boolean hidden = Vhd.query(store, name).hidden();
    Vhd.setHidden(store, name, !hidden);
    assertThat(Vhd.query(store, name).hidden()).isEqualTo(!hidden);
  }

  private void verifyLeafRange() throws IOException {
    byte[] m = model.get(leaf());
    int len = 1 + rnd.nextInt(Math.min(m.length, 3 * MIB));
    int off = rnd.nextInt(m.length - len + 1);
    ByteBuffer got = ByteBuffer.allocate(len);
    leafChain().read(got, off);
    assertSame(m, off, got.array(), leaf());
  }

  private void verifyEverything() throws IOException {
    closeOpen();
    for (String name : chain) {
      verifyDisk(name);
      assertThat(Vhd.check(store, name, true)).as("check of " + name).isEmpty();
    }
    Vhd.Info info = Vhd.query(store, leaf());
    assertThat(info.chainDepth()).isEqualTo(chain.size());
  }

  private void verifyDisk(String name) throws IOException {
    byte[] m = model.get(name);
    try (VhdChain c = VhdChain.open(store, name, false)) {
      assertThat(c.virtualSizeBytes()).as("size of " + name).isEqualTo(m.length);
      ByteBuffer got = ByteBuffer.allocate(m.length);
      c.read(got, 0);
      assertSame(m, 0, got.array(), name);
    }
  }

  private static void assertSame(byte[] model, int off, byte[] got, String name) {
    int mismatch = Arrays.mismatch(model, off, off + got.length, got, 0, got.length);
    assertThat(mismatch)
        .as("first differing byte of %s at disk offset %d", name, off + mismatch)
        .isEqualTo(-1);
  }
}
