package org.xsm.plugins.filesr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.RemoteDevice;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.conformance.VdiBytes;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.LocalImageStore;

/**
 * A VDI active on "another host": a device of its own on the same files, as a member of a pool
 * opens it, which the SR master suspends around its changes of the chain ({@code activeElsewhere}).
 * Without the suspension the other device goes on writing into the file the snapshot renamed to the
 * base copy, and the snapshot's bytes change under it; these tests fail then.
 */
class ElsewhereTest {
  private static final int MIB = 1024 * 1024;

  @TempDir Path dir;
  private ImageStore store;
  private FileSr master;
  private String leaf;
  private VhdVdiDevice other;
  private final List<String> calls = new ArrayList<>();

  /** The other host's side: its own device, suspended and resumed as the agent would. */
  private final class OtherHost implements RemoteDevice {
    private VdiDevice.Suspension suspension;

    @Override
    public void suspend() throws SmException {
      calls.add("suspend");
      suspension = other.suspend();
    }

    @Override
    public void resume() throws SmException {
      calls.add("resume");
      if (suspension != null) {
        VdiDevice.Suspension s = suspension;
        suspension = null;
        s.close();
      }
    }
  }

  @BeforeEach
  void sr() throws Exception {
    store = LocalImageStore.open(dir);
    master = new FileSr(store, TestDriverInfo.INFO, UUID.randomUUID().toString(), () -> {});
    leaf = master.createVdi(8 * MIB, VdiMetadata.named("disk")).location();
    other = VhdVdiDevice.open(store, master.existing(leaf), false);
  }

  @AfterEach
  void close() throws Exception {
    other.close();
    master.detach();
  }

  private static byte[] pattern(int seed, int len) {
    byte[] b = new byte[len];
    Arrays.fill(b, (byte) seed);
    return b;
  }

  private void write(int seed, long offset, int len) throws Exception {
    other.write(ByteBuffer.wrap(pattern(seed, len)), offset);
    other.flush();
  }

  private byte[] expected(int... seedsPerMib) {
    byte[] b = new byte[8 * MIB];
    for (int i = 0; i < seedsPerMib.length; i++) {
      Arrays.fill(b, i * MIB, (i + 1) * MIB, (byte) seedsPerMib[i]);
    }
    return b;
  }

  @Test
  void aSnapshotSuspendsTheOtherHostsDeviceAndItWritesIntoTheNewLeaf() throws Exception {
    master.activeElsewhere(leaf, new OtherHost());
    write(1, 0, 2 * MIB);

    String snap = master.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    assertThat(calls).containsExactly("suspend", "resume");
    write(2, MIB, 2 * MIB); // after the snapshot: into the new leaf only

    assertThat(VdiBytes.readAll(master, snap)).isEqualTo(expected(1, 1));
    assertThat(VdiBytes.readAll(master, leaf)).isEqualTo(expected(1, 2, 2));
    ByteBuffer back = ByteBuffer.allocate(3 * MIB);
    other.read(back, 0);
    assertThat(back.array()).isEqualTo(Arrays.copyOf(expected(1, 2, 2), 3 * MIB));
  }

  @Test
  void theCollectorRelinksUnderTheSuspensionAndNeverLeafCoalescesIt() throws Exception {
    master.activeElsewhere(leaf, new OtherHost());
    write(1, 0, MIB);
    String s1 = master.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    write(2, MIB, MIB);
    String s2 = master.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    write(3, 2 * MIB, MIB);
    master.deleteVdi(s1);
    master.deleteVdi(s2); // the leaf is its parent's only child: a leaf-coalesce candidate
    calls.clear();

    GarbageCollector.GcReport r = master.collectGarbage();

    assertThat(r.coalesced()).as("the base copies were coalesced").isPositive();
    assertThat(r.leafCoalesced()).as("a leaf active elsewhere is never leaf-coalesced").isZero();
    assertThat(calls).as("each re-link suspended it").contains("suspend").endsWith("resume");
    assertThat(calls.stream().filter("suspend"::equals).count())
        .isEqualTo(calls.stream().filter("resume"::equals).count());
    write(4, 3 * MIB, MIB); // the device still works on the new chain
    assertThat(VdiBytes.readAll(master, leaf)).isEqualTo(expected(1, 2, 3, 4));

    // Once inactive there, the collector may leaf-coalesce it again.
    master.inactiveElsewhere(leaf);
    other.close();
    GarbageCollector.GcReport after = master.collectGarbage();
    assertThat(after.leafCoalesced()).isEqualTo(1);
    assertThat(VdiBytes.readAll(master, leaf)).isEqualTo(expected(1, 2, 3, 4));
  }

  @Test
  void aSuspensionThatFailsStopsTheSnapshotAndLeavesTheTreeAsItWas() throws Exception {
    master.activeElsewhere(
        leaf,
        new RemoteDevice() {
          @Override
          public void suspend() throws SmException {
            throw new SmException(SmError.EIO, "host 10.0.0.2 unreachable");
          }

          @Override
          public void resume() {
            calls.add("resume");
          }
        });
    write(1, 0, MIB);
    int before = master.scan().size();

    assertThatThrownBy(() -> master.snapshot(leaf, SnapshotKind.DOUBLE, null))
        .isInstanceOf(SmException.class)
        .hasMessageContaining("did not suspend it")
        .hasMessageContaining("10.0.0.2 unreachable");
    assertThat(calls).containsExactly("resume");
    assertThat(master.scan()).hasSize(before);
    assertThat(VdiBytes.readAll(master, leaf)).isEqualTo(expected(1));
  }
}
