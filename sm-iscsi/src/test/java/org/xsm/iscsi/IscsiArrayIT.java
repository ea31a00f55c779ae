package org.xsm.iscsi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.SmDriver;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.iscsi.control.ControlClient;
import org.xsm.iscsi.control.PoolStats;

/**
 * The iscsi driver against the real array: snapshot and clone contents byte for byte through the
 * plugin's initiator, dedup in the shared pool, CHAP, a device that survives the array being killed
 * and restarted, and changed-block tracking that survives it too.
 */
class IscsiArrayIT {
  private static final long MIB = 1L << 20;

  @TempDir Path dir;

  private static SmDriver driver() {
    return new IscsiDriver(); // registration is checked in IscsiDriverConfigTest
  }

  private static byte[] random(int seed, int length) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] read(VdiDevice d, long offset, int length) throws SmException {
    ByteBuffer b = ByteBuffer.allocate(length);
    d.read(b, offset);
    return b.array();
  }

  /** Two free ports, so that a restarted array is found where the first one was. */
  private record Ports(int iscsi, int control) {
    static Ports free() throws java.io.IOException {
      try (ServerSocket s1 = new ServerSocket(0);
          ServerSocket s2 = new ServerSocket(0)) {
        return new Ports(s1.getLocalPort(), s2.getLocalPort());
      }
    }

    ArrayProcess start(Path pool) throws java.io.IOException {
      return ArrayProcess.start(pool, iscsi, control);
    }
  }

  /** A new SR on {@code array}, attached. */
  private static Sr newSr(ArrayProcess array) throws SmException {
    SmDriver driver = driver();
    SrConfig config = new SrConfig(UUID.randomUUID().toString(), array.deviceConfig());
    driver.create(config, 0);
    return driver.attach(config);
  }

  private static VdiDevice open(Sr sr, VdiInfo v, boolean writable) throws SmException {
    sr.attachVdi(v.location(), writable);
    return sr.activateVdi(v.location());
  }

  @Test
  void snapshotAndCloneBytesThroughTheInitiatorAndDedupInThePool() throws Exception {
    try (ArrayProcess array = ArrayProcess.start(dir.resolve("pool"))) {
      SmDriver driver = driver();
      SrConfig config = new SrConfig(UUID.randomUUID().toString(), array.deviceConfig());
      driver.create(config, 0);
      Sr sr = driver.attach(config);
      VdiInfo a = sr.createVdi(16 * MIB, VdiMetadata.named("a"));
      byte[] first = random(1, (int) (8 * MIB));
      VdiDevice d = open(sr, a, true);
      d.write(ByteBuffer.wrap(first), 0);
      d.flush();
      VdiInfo snap = sr.snapshot(a.location(), SnapshotKind.DOUBLE, VdiMetadata.named("snap"));
      assertThat(snap.readOnly()).isTrue();
      byte[] second = random(2, (int) MIB);
      d.write(ByteBuffer.wrap(second), 3 * MIB + 7);
      d.flush();
      VdiInfo clone = sr.cloneVdi(snap.location(), VdiMetadata.named("clone of snap"));
      assertThat(clone.readOnly()).isFalse();

      VdiDevice s = open(sr, snap, false);
      assertThat(read(s, 0, first.length)).as("snapshot = data before it").isEqualTo(first);
      assertThatThrownBy(() -> s.write(ByteBuffer.allocate(512), 0))
          .isInstanceOfSatisfying(
              SmException.class, e -> assertThat(e.error()).isEqualTo(SmError.VDI_UNAVAILABLE));
      VdiDevice c = open(sr, clone, true);
      assertThat(read(c, 0, first.length)).as("clone of the snapshot").isEqualTo(first);
      byte[] third = random(3, 4096);
      c.write(ByteBuffer.wrap(third), 0);
      c.flush();
      assertThat(read(c, 0, 4096)).isEqualTo(third);
      assertThat(read(s, 0, 4096))
          .as("snapshot unchanged by clone writes")
          .isEqualTo(java.util.Arrays.copyOf(first, 4096));
      byte[] expectedA = first.clone();
      System.arraycopy(second, 0, expectedA, (int) (3 * MIB + 7), second.length);
      assertThat(read(d, 0, expectedA.length)).as("leaf").isEqualTo(expectedA);

      // The same 8 MiB written to a new VDI is deduplicated by the pool.
      ControlClient client =
          new ControlClient(
              array.controlUrl(), ArrayProcess.USER, ArrayProcess.PASSWORD, Duration.ofSeconds(10));
      PoolStats before = client.pool();
      VdiInfo b = sr.createVdi(16 * MIB, VdiMetadata.named("b"));
      VdiDevice bd = open(sr, b, true);
      bd.write(ByteBuffer.wrap(first), 0);
      bd.flush();
      PoolStats after = client.pool();
      java.util.BitSet allocated = bd.allocatedBlocks();
      assertThat(allocated.get(0, 4).cardinality()).as("2 MiB pieces written").isEqualTo(4);
      assertThat(allocated.get(4, 8).isEmpty()).as("2 MiB pieces never written").isTrue();
      assertThat(after.logicalBytes() - before.logicalBytes()).isGreaterThanOrEqualTo(8 * MIB);
      assertThat(after.physicalUsedBytes() - before.physicalUsedBytes())
          .as("physical growth for data already in the pool")
          .isLessThan(MIB);
      assertThat(after.dedupRatio()).isGreaterThan(before.dedupRatio());

      for (VdiInfo v : new VdiInfo[] {a, snap, clone, b}) {
        sr.detachVdi(v.location());
      }
      // deleting the source keeps its snapshot and clone intact
      sr.deleteVdi(a.location());
      VdiDevice again = open(sr, snap, false);
      assertThat(read(again, 0, first.length)).isEqualTo(first);
      sr.detachVdi(snap.location());
      sr.detach();
    }
  }

  @Test
  void chapIsRequiredWhenTheArrayAsksForIt() throws Exception {
    try (ArrayProcess array =
        ArrayProcess.start(
            dir.resolve("pool"), "--chap-user", "xsm", "--chap-secret", "chap-secret-16c")) {
      SmDriver driver = driver();
      SrConfig bare = new SrConfig(UUID.randomUUID().toString(), array.deviceConfig());
      driver.create(bare, 0);
      assertThatThrownBy(() -> driver.attach(bare))
          .isInstanceOfSatisfying(
              SmException.class, e -> assertThat(e.error()).isEqualTo(SmError.SR_UNAVAILABLE))
          .hasMessageContaining("CHAP");
      Map<String, String> wrong = new java.util.HashMap<>(array.deviceConfig());
      wrong.put("chapuser", "xsm");
      wrong.put("chappassword", "not-the-secret!");
      assertThatThrownBy(() -> driver.attach(new SrConfig(bare.srUuid(), wrong)))
          .isInstanceOfSatisfying(
              SmException.class, e -> assertThat(e.error()).isEqualTo(SmError.SR_UNAVAILABLE));
      Map<String, String> right = new java.util.HashMap<>(array.deviceConfig());
      right.put("chapuser", "xsm");
      right.put("chappassword", "chap-secret-16c");
      Sr sr = driver.attach(new SrConfig(bare.srUuid(), right));
      VdiInfo v = sr.createVdi(4 * MIB, VdiMetadata.named("chap"));
      VdiDevice d = open(sr, v, true);
      byte[] data = random(4, 65536);
      d.write(ByteBuffer.wrap(data), 4096);
      assertThat(read(d, 4096, data.length)).isEqualTo(data);
      sr.detachVdi(v.location());
      sr.detach();
    }
  }

  @Test
  void activeDeviceSurvivesTheArrayBeingKilledAndRestarted() throws Exception {
    Ports ports = Ports.free();
    Path pool = dir.resolve("pool");
    ArrayProcess array = ports.start(pool);
    Sr sr = newSr(array);
    try {
      VdiInfo v = sr.createVdi(8 * MIB, VdiMetadata.named("survivor"));
      VdiDevice d = open(sr, v, true);
      byte[] before = random(5, (int) MIB);
      d.write(ByteBuffer.wrap(before), 0);
      d.flush();
      array.kill();
      array = ports.start(pool);
      byte[] after = random(6, (int) MIB);
      d.write(ByteBuffer.wrap(after), 2 * MIB);
      d.flush();
      assertThat(read(d, 0, before.length)).as("written before the crash").isEqualTo(before);
      assertThat(read(d, 2 * MIB, after.length)).as("written after the restart").isEqualTo(after);
      assertThat(sr.scan()).extracting(VdiInfo::location).containsExactly(v.location());
      sr.detachVdi(v.location());
      sr.detach();
    } finally {
      array.close();
    }
  }

  @Test
  void changedBlocksSurviveTheArrayBeingKilledAndRestarted() throws Exception {
    Ports ports = Ports.free();
    Path pool = dir.resolve("pool");
    ArrayProcess array = ports.start(pool);
    Sr sr = newSr(array);
    try {
      VdiInfo v = sr.createVdi(32 * MIB, VdiMetadata.named("tracked"));
      sr.enableCbt(v.location());
      VdiDevice d = open(sr, v, true);
      d.write(ByteBuffer.wrap(random(7, (int) (16 * MIB))), 0);
      d.flush();
      VdiInfo s1 = sr.snapshot(v.location(), SnapshotKind.DOUBLE, VdiMetadata.named("s1"));
      BitSet expected = new BitSet();
      long[] offsets = {5, 3 * MIB + 65535, 20 * MIB, 32 * MIB - 1};
      for (int i = 0; i < offsets.length; i++) {
        byte[] data = random(8 + i, 2);
        data[0] |= 1; // differs from the zeros past 16 MiB
        data[1] |= 1;
        int len = offsets[i] == 32 * MIB - 1 ? 1 : 2;
        d.write(ByteBuffer.wrap(data, 0, len), offsets[i]);
        expected.set((int) (offsets[i] / 65536), (int) ((offsets[i] + len - 1) / 65536) + 1);
      }
      d.flush();
      VdiInfo s2 = sr.snapshot(v.location(), SnapshotKind.DOUBLE, VdiMetadata.named("s2"));
      sr.dataDestroy(s1.location());
      assertThat(sr.listChangedBlocks(s1.location(), s2.location()).changed()).isEqualTo(expected);
      array.kill(); // the journal is replayed: data destroy recomputes its digests
      array = ports.start(pool);
      assertThat(sr.listChangedBlocks(s1.location(), s2.location()).changed())
          .as("after a crash of the array")
          .isEqualTo(expected);
      assertThat(sr.listChangedBlocks(s1.location(), v.location()).changed()).isEqualTo(expected);
      array.close(); // a clean stop: the checkpoint holds the digests
      array = ports.start(pool);
      assertThat(sr.listChangedBlocks(s1.location(), s2.location()).changed())
          .as("after a clean restart of the array")
          .isEqualTo(expected);
      VdiInfo destroyed =
          sr.scan().stream().filter(x -> x.location().equals(s1.location())).findFirst().get();
      assertThat(destroyed.metadata().type()).isEqualTo("cbt_metadata");
      assertThat(destroyed.cbtEnabled()).isTrue();
      assertThat(destroyed.physicalUtilisationBytes()).isZero();
      sr.detachVdi(v.location());
      sr.detach();
    } finally {
      array.close();
    }
  }
}
