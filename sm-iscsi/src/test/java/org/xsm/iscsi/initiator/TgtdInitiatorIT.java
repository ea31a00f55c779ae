package org.xsm.iscsi.initiator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The initiator against a real tgtd: discovery, login with and without CHAP, capacity, byte-exact
 * I/O checked against the backing file, sense errors, and surviving a tgtd crash and restart.
 */
class TgtdInitiatorIT {
  private static final String IQN = "iqn.2024-01.org.xsm.test:initiator-it";
  private static final long SIZE = 16L << 20;

  @TempDir Path dir;
  private Tgtd tgtd;
  private Path backing;

  @BeforeEach
  void startTarget() throws Exception {
    backing = dir.resolve("lun1.img");
    try (FileChannel ch =
        FileChannel.open(backing, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.truncate(0);
      ch.write(ByteBuffer.allocate(1), SIZE - 1);
    }
    tgtd = Tgtd.start(dir, 21);
    tgtd.target(1, IQN, backing);
  }

  @AfterEach
  void stopTarget() throws Exception {
    tgtd.close();
  }

  private InitiatorConfig config() {
    return InitiatorConfig.of("127.0.0.1", tgtd.port(), IQN);
  }

  @Test
  void discoveryListsTheTargetAndItsPortal() throws IOException {
    List<Discovery.Target> targets = Discovery.sendTargets(config().withTarget(null));
    assertThat(targets).extracting(Discovery.Target::iqn).containsExactly(IQN);
    assertThat(targets.get(0).addresses()).anyMatch(a -> a.startsWith("127.0.0.1:" + tgtd.port()));
  }

  @Test
  void capacityInquiryAndLuns() throws IOException {
    try (IscsiSession s = IscsiSession.login(config())) {
      assertThat(s.reportLuns()).containsExactlyInAnyOrder(0, 1);
      ScsiDisk disk = ScsiDisk.open(s, 1);
      assertThat(disk.sizeBytes()).isEqualTo(SIZE);
      assertThat(disk.blockSize()).isEqualTo(512);
      assertThatThrownBy(() -> ScsiDisk.open(s, 0))
          .isInstanceOf(IscsiException.class)
          .hasMessageContaining("not a disk");
      NegotiatedParameters p = s.parameters();
      assertThat(p.maxSendDataSegmentLength()).isPositive();
      assertThat(p.maxBurstLength()).isPositive();
    }
  }

  @Test
  void writesReachTheBackingFileByteForByte() throws IOException {
    Random random = new Random(7);
    byte[] expected = new byte[(int) SIZE];
    try (IscsiSession s = IscsiSession.login(config())) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      // large aligned (many chunks in flight), small aligned, unaligned head/tail, one byte
      long[][] writes = {
        {0, 3 << 20},
        {5 << 20, 4096},
        {(6 << 20) + 100, 70_000},
        {SIZE - 1, 1},
        {(9 << 20) + 511, 2}
      };
      for (long[] w : writes) {
        byte[] data = new byte[(int) w[1]];
        random.nextBytes(data);
        disk.write(ByteBuffer.wrap(data), w[0]);
        System.arraycopy(data, 0, expected, (int) w[0], data.length);
      }
      disk.flush();
      assertThat(Files.readAllBytes(backing)).isEqualTo(expected);
      ByteBuffer all = ByteBuffer.allocate((int) SIZE);
      disk.read(all, 0);
      assertThat(all.array()).isEqualTo(expected);
      ByteBuffer part = ByteBuffer.allocate(70_003);
      disk.read(part, (6 << 20) + 99);
      byte[] slice = new byte[70_003];
      System.arraycopy(expected, (6 << 20) + 99, slice, 0, slice.length);
      assertThat(part.array()).isEqualTo(slice);
    }
  }

  @Test
  void tenByteReadsAndWritesAsAfterAFallback() throws IOException {
    byte[] data = new byte[300_000];
    new Random(13).nextBytes(data);
    try (IscsiSession s = IscsiSession.login(config())) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      disk.useTenByteCommands();
      disk.write(ByteBuffer.wrap(data), 4 << 20);
      disk.flush();
      ByteBuffer got = ByteBuffer.allocate(data.length);
      disk.read(got, 4 << 20);
      assertThat(got.array()).isEqualTo(data);
      assertThatThrownBy(() -> disk.readBlocks(SIZE / 512, ByteBuffer.allocate(512)))
          .hasMessageContaining("READ(10) of LBA " + SIZE / 512);
    }
    byte[] file = Files.readAllBytes(backing);
    assertThat(java.util.Arrays.copyOfRange(file, 4 << 20, (4 << 20) + data.length))
        .isEqualTo(data);
  }

  @Test
  void readsSeeWhatIsWrittenToTheBackingFile() throws IOException {
    byte[] data = new byte[1 << 20];
    new Random(11).nextBytes(data);
    try (FileChannel ch = FileChannel.open(backing, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(data), 2 << 20);
    }
    try (IscsiSession s = IscsiSession.login(config())) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      ByteBuffer got = ByteBuffer.allocateDirect(data.length);
      disk.read(got, 2 << 20);
      got.flip();
      byte[] bytes = new byte[data.length];
      got.get(bytes);
      assertThat(bytes).isEqualTo(data);
    }
  }

  @Test
  void concurrentWritersToDistinctRegions() throws Exception {
    try (IscsiSession s = IscsiSession.login(config())) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      ExecutorService pool = Executors.newFixedThreadPool(4);
      byte[][] regions = new byte[8][1 << 20];
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < regions.length; i++) {
        new Random(i).nextBytes(regions[i]);
        int n = i;
        done.add(
            pool.submit(
                () -> {
                  disk.write(ByteBuffer.wrap(regions[n]), (long) n << 20);
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      pool.shutdown();
      disk.flush();
      byte[] file = Files.readAllBytes(backing);
      for (int i = 0; i < regions.length; i++) {
        byte[] got = new byte[1 << 20];
        System.arraycopy(file, i << 20, got, 0, got.length);
        assertThat(got).as("region %d", i).isEqualTo(regions[i]);
      }
    }
  }

  @Test
  void outOfRangeReadIsDecodedSense() throws IOException {
    try (IscsiSession s = IscsiSession.login(config())) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      long beyond = SIZE / 512;
      assertThatThrownBy(() -> disk.readBlocks(beyond, ByteBuffer.allocate(512)))
          .isInstanceOfSatisfying(
              ScsiStatusException.class,
              e -> {
                assertThat(e.status()).isEqualTo(ScsiStatusException.CHECK_CONDITION);
                assertThat(e.sense().key()).isEqualTo(SenseData.ILLEGAL_REQUEST);
                assertThat(e.sense().asc()).isEqualTo(0x21);
              })
          .hasMessageContaining("READ(16) of LBA " + beyond)
          .hasMessageContaining("logical block address out of range");
      assertThatThrownBy(() -> disk.read(ByteBuffer.allocate(2), SIZE - 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("outside LUN 1");
      // the session still works after the error
      ByteBuffer ok = ByteBuffer.allocate(512);
      disk.readBlocks(beyond - 1, ok);
    }
  }

  @Test
  void unmapDeallocatesWhereTheTargetSupportsIt() throws Exception {
    try (IscsiSession s = IscsiSession.login(config())) {
      ScsiDisk plain = ScsiDisk.open(s, 1);
      assertThat(plain.thinProvisioned()).as("LBPME without thin_provisioning").isFalse();
      assertThat(plain.unmap(0, 8)).as("UNMAP sent to a target without it").isFalse();
    }
    tgtd.lunParams(1, 1, "thin_provisioning=1");
    byte[] data = new byte[1 << 20];
    new Random(12).nextBytes(data);
    try (IscsiSession s = IscsiSession.login(config())) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      assertThat(disk.thinProvisioned()).isTrue();
      disk.write(ByteBuffer.wrap(data), 1 << 20);
      disk.flush();
      java.util.BitSet mapped = disk.allocated(1 << 20);
      assertThat(mapped.get(1)).as("MiB 1, written").isTrue();
      assertThat(mapped.get(5)).as("MiB 5, never written").isFalse();
      assertThat(disk.unmap((1 << 20) / 512, 1024)).isTrue(); // the first 512 KiB of the data
      disk.flush();
      ByteBuffer got = ByteBuffer.allocate(data.length);
      disk.read(got, 1 << 20);
      byte[] expected = data.clone();
      java.util.Arrays.fill(expected, 0, 512 * 1024, (byte) 0);
      assertThat(got.array()).isEqualTo(expected);
      byte[] file = Files.readAllBytes(backing);
      assertThat(java.util.Arrays.copyOfRange(file, 1 << 20, 2 << 20)).isEqualTo(expected);
    }
  }

  @Test
  void readOnlyLunRefusesWritesWithDataProtect() throws Exception {
    tgtd.lunParams(1, 1, "readonly=1");
    try (IscsiSession s = IscsiSession.login(config())) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      assertThatThrownBy(() -> disk.write(ByteBuffer.allocate(512), 0))
          .isInstanceOfSatisfying(
              ScsiStatusException.class,
              e -> assertThat(e.sense().key()).isEqualTo(SenseData.DATA_PROTECT))
          .hasMessageContaining("write protected");
    }
  }

  @Test
  void chapLoginWithRightSecretOnly() throws Exception {
    // CHAP configured but not required by the target: the target picks None from "CHAP,None"
    try (IscsiSession s = IscsiSession.login(config().withChap("xsmuser", "secret-of-16chr"))) {
      assertThat(ScsiDisk.open(s, 1).sizeBytes()).isEqualTo(SIZE);
    }
    tgtd.chap(1, "xsmuser", "secret-of-16chr");
    byte[] data = new byte[4096];
    new Random(3).nextBytes(data);
    try (IscsiSession s = IscsiSession.login(config().withChap("xsmuser", "secret-of-16chr"))) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      disk.write(ByteBuffer.wrap(data), 8192);
      disk.flush();
    }
    byte[] file = Files.readAllBytes(backing);
    byte[] got = new byte[data.length];
    System.arraycopy(file, 8192, got, 0, got.length);
    assertThat(got).isEqualTo(data);
    assertThatThrownBy(() -> IscsiSession.login(config().withChap("xsmuser", "wrong-secret-123")))
        .isInstanceOf(IscsiException.class)
        .hasMessageContaining("authentication failed");
    assertThatThrownBy(() -> IscsiSession.login(config()))
        .isInstanceOf(IscsiException.class)
        .hasMessageContaining("refused");
  }

  @Test
  void wrongTargetNameIsRefusedClearly() {
    assertThatThrownBy(() -> IscsiSession.login(config().withTarget(IQN + "-nope")))
        .isInstanceOf(IscsiException.class)
        .hasMessageContaining("no such target");
  }

  @Test
  void sessionSurvivesTgtdCrashAndRestart() throws Exception {
    InitiatorConfig config = config().withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(20));
    byte[] before = new byte[1 << 20];
    byte[] after = new byte[1 << 20];
    Random random = new Random(5);
    random.nextBytes(before);
    random.nextBytes(after);
    try (IscsiSession s = IscsiSession.login(config)) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      disk.write(ByteBuffer.wrap(before), 0);
      disk.flush();
      tgtd.restart(300);
      disk.write(ByteBuffer.wrap(after), 1 << 20);
      disk.flush();
      assertThat(s.reconnects()).isGreaterThanOrEqualTo(1);
      ByteBuffer got = ByteBuffer.allocate(2 << 20);
      disk.read(got, 0);
      byte[] expected = new byte[2 << 20];
      System.arraycopy(before, 0, expected, 0, before.length);
      System.arraycopy(after, 0, expected, 1 << 20, after.length);
      assertThat(got.array()).isEqualTo(expected);
    }
  }

  @Test
  void hungTargetIsDetectedByNopPingAndTheSessionRecovers() throws Exception {
    InitiatorConfig config = config().withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(30));
    byte[] data = new byte[65536];
    new Random(9).nextBytes(data);
    try (IscsiSession s = IscsiSession.login(config)) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      disk.write(ByteBuffer.wrap(data), 0);
      disk.flush();
      tgtd.freeze();
      try {
        // No I/O: only the watchdog's NOP-Out ping can notice that the target stopped answering.
        Thread.sleep(2500);
      } finally {
        tgtd.thaw();
      }
      ByteBuffer got = ByteBuffer.allocate(data.length);
      disk.read(got, 0);
      assertThat(got.array()).isEqualTo(data);
      assertThat(s.reconnects())
          .as("logins after the ping went unanswered")
          .isGreaterThanOrEqualTo(1);
    }
  }

  @Test
  void commandToAHungTargetTimesOutAndIsRetriedOnANewConnection() throws Exception {
    InitiatorConfig config = config().withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(30));
    byte[] data = new byte[1 << 20];
    new Random(10).nextBytes(data);
    try (IscsiSession s = IscsiSession.login(config)) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      tgtd.freeze();
      Thread thaw =
          new Thread(
              () -> {
                try {
                  Thread.sleep(2000);
                  tgtd.thaw();
                } catch (IOException | InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              });
      thaw.start();
      disk.write(ByteBuffer.wrap(data), 1 << 20);
      disk.flush();
      thaw.join();
      assertThat(s.reconnects()).isGreaterThanOrEqualTo(1);
    }
    byte[] file = Files.readAllBytes(backing);
    assertThat(java.util.Arrays.copyOfRange(file, 1 << 20, 2 << 20)).isEqualTo(data);
  }

  @Test
  void targetThatStaysDownFailsAfterTheReconnectTimeout() throws Exception {
    InitiatorConfig config = config().withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(2));
    try (IscsiSession s = IscsiSession.login(config)) {
      ScsiDisk disk = ScsiDisk.open(s, 1);
      tgtd.kill();
      assertThatThrownBy(() -> disk.read(ByteBuffer.allocate(512), 0))
          .isInstanceOf(IscsiException.class)
          .hasMessageContaining("could not log in again within 2 s");
    }
  }
}
