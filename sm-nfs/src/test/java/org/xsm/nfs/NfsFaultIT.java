package org.xsm.nfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xsm.api.SmException;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.nfs.testing.GaneshaServer;

/**
 * Faults of a real server: nfs-ganesha killed and restarted while data is being written (nothing
 * that a flush acknowledged may be lost; writes the old server acknowledged UNSTABLE are resent
 * when COMMIT shows a new write verifier), and a server that is gone (operations fail with an
 * SR_BACKEND_FAILURE within the configured bound, never hang).
 */
class NfsFaultIT extends GaneshaTest {
  private static final int MIB = 1 << 20;

  @BeforeEach
  void serverUp() throws IOException {
    if (!ganesha.isRunning()) {
      ganesha.restart();
    }
  }

  private static SrConfig newSr(String options) throws Exception {
    Path dir = Files.createTempDirectory(ganesha.exportDir(), "fault-");
    SrConfig config =
        new SrConfig(
            UUID.randomUUID().toString(),
            Map.of(
                "server",
                "127.0.0.1",
                "serverpath",
                GaneshaServer.EXPORT + "/" + dir.getFileName(),
                "options",
                options));
    NfsConformanceTest.DRIVER.create(config, 0);
    return config;
  }

  /**
   * SIGKILL, then a new server, started in a later second: a ganesha restarted within the same
   * second was seen to answer with the same write verifier (it follows the start time in whole
   * seconds), and then no client can tell it restarted. A limit of the server, not the protocol.
   */
  private static void crashAndRestart() throws Exception {
    ganesha.kill();
    Thread.sleep(1100);
    ganesha.restart();
  }

  private static byte[] chunk(int i) {
    byte[] b = new byte[MIB];
    new Random(1000 + i).nextBytes(b);
    return b;
  }

  private static void assertChunks(VdiDevice d, int from, int to) throws SmException {
    for (int i = from; i < to; i++) {
      ByteBuffer b = ByteBuffer.allocate(MIB);
      d.read(b, (long) i * MIB);
      assertThat(b.array()).as("chunk %d after the server restart", i).isEqualTo(chunk(i));
    }
  }

  @Test
  void writesAcknowledgedByAServerThatThenCrashedAreResentAtFlush() throws Exception {
    SrConfig config = newSr("timeo=50,retrans=3");
    Sr sr = NfsConformanceTest.DRIVER.attach(config);
    VdiInfo vdi = sr.createVdi(64L * MIB, VdiMetadata.named("restart"));
    sr.attachVdi(vdi.location(), true);
    VdiDevice d = sr.activateVdi(vdi.location());
    for (int i = 0; i < 8; i++) {
      d.write(ByteBuffer.wrap(chunk(i)), (long) i * MIB);
    }
    long before = NfsImageFile.rewrittenBytes();
    crashAndRestart(); // the UNSTABLE writes were acknowledged, never committed
    d.flush();
    assertThat(NfsImageFile.rewrittenBytes() - before)
        .as("bytes resent because COMMIT returned the new server's write verifier")
        .isGreaterThanOrEqualTo(8L * MIB);
    assertChunks(d, 0, 8);
    sr.deactivateVdi(vdi.location());
    sr.detachVdi(vdi.location());
    sr.detach();
  }

  @Test
  void aLongUnflushedStreamAcrossACrashIsCompleteAfterForce() throws Exception {
    Path dir = Files.createTempDirectory(ganesha.exportDir(), "stream-");
    NfsMount m =
        NfsMounts.mount(
            Map.of(
                "server",
                "127.0.0.1",
                "serverpath",
                GaneshaServer.EXPORT + "/" + dir.getFileName()));
    NfsImageStore store = m.store(m.root(), "stream");
    int total = 100;
    long before = NfsImageFile.rewrittenBytes();
    try (org.xsm.plugins.store.ImageFile f = store.create("big")) {
      // Past the first background COMMIT (at 64 MiB), then the server crashes and comes back.
      for (int i = 0; i < 90; i++) {
        f.writeFully(ByteBuffer.wrap(chunk(i)), (long) i * MIB);
      }
      crashAndRestart();
      for (int i = 90; i < total; i++) {
        f.writeFully(ByteBuffer.wrap(chunk(i)), (long) i * MIB);
      }
      f.force();
    }
    assertThat(NfsImageFile.rewrittenBytes() - before)
        // The first COMMIT goes out once more than 64 MiB wait: it covers chunks 0..64.
        .as("writes after the last COMMIT the old server answered were resent")
        .isGreaterThanOrEqualTo((90L - 65) * MIB)
        .isLessThanOrEqualTo(90L * MIB);
    byte[] onDisk = Files.readAllBytes(dir.resolve("big"));
    assertThat(onDisk.length).isEqualTo(total * MIB);
    for (int i = 0; i < total; i++) {
      assertThat(java.util.Arrays.copyOfRange(onDisk, i * MIB, (i + 1) * MIB))
          .as("chunk %d", i)
          .isEqualTo(chunk(i));
    }
  }

  @Test
  void aServerRestartedInTheMiddleOfAWriteStreamLosesNoFlushedWrite() throws Exception {
    SrConfig config = newSr("timeo=50,retrans=3");
    Sr sr = NfsConformanceTest.DRIVER.attach(config);
    VdiInfo vdi = sr.createVdi(64L * MIB, VdiMetadata.named("stream"));
    sr.attachVdi(vdi.location(), true);
    VdiDevice d = sr.activateVdi(vdi.location());
    int chunks = 64;
    AtomicInteger written = new AtomicInteger();
    CompletableFuture<Integer> writer =
        CompletableFuture.supplyAsync(
            () -> {
              int flushed = 0;
              try {
                for (int i = 0; i < chunks; i++) {
                  d.write(ByteBuffer.wrap(chunk(i)), (long) i * MIB);
                  written.set(i + 1);
                  Thread.sleep(60); // a paced stream, so that the restart falls in its middle
                  if (i % 4 == 3) {
                    d.flush();
                    flushed = i + 1;
                  }
                }
              } catch (SmException | InterruptedException e) {
                throw new IllegalStateException("write stream failed after " + flushed, e);
              }
              return flushed;
            });
    while (written.get() < 12) {
      Thread.sleep(5);
    }
    int atStop = written.get();
    ganesha.restart(); // SIGTERM and start again, while the writer goes on
    int atStart = written.get();
    int flushed = writer.get(120, TimeUnit.SECONDS);
    System.out.printf(
        "write stream: restart began after chunk %d, new server up at chunk %d of %d%n",
        atStop, atStart, chunks);
    assertThat(atStart).as("chunks written when the new server was up").isLessThan(chunks);
    assertThat(flushed).isEqualTo(chunks);
    sr.deactivateVdi(vdi.location());
    sr.detachVdi(vdi.location());
    sr.detach();
    // Read back through a fresh attach: the data is on the server, not in this client.
    Sr again = NfsConformanceTest.DRIVER.attach(config);
    again.attachVdi(vdi.location(), false);
    assertChunks(again.activateVdi(vdi.location()), 0, chunks);
    again.deactivateVdi(vdi.location());
    again.detachVdi(vdi.location());
    again.detach();
  }

  @Test
  void aServerThatIsGoneFailsOperationsWithinTheBound() throws Exception {
    SrConfig config = newSr("timeo=10,retrans=2"); // 1 s per attempt, 3 attempts: 3 s
    Sr sr = NfsConformanceTest.DRIVER.attach(config);
    VdiInfo vdi = sr.createVdi(8L * MIB, VdiMetadata.named("gone"));
    sr.attachVdi(vdi.location(), true);
    VdiDevice d = sr.activateVdi(vdi.location());
    d.write(ByteBuffer.wrap(chunk(0)), 0);
    ganesha.kill();

    long t0 = System.nanoTime();
    SmException write =
        catchThrowableOfType(
            () -> {
              d.write(ByteBuffer.wrap(chunk(1)), MIB);
              d.flush();
            },
            SmException.class);
    long writeMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(write).as("write and flush to a dead server").isNotNull();
    assertThat(write.toString()).startsWith("SR_BACKEND_FAILURE_").contains("127.0.0.1");
    assertThat(writeMs).as("time to fail").isLessThan(10_000L);
    System.out.printf("dead server: write failed after %d ms: %s%n", writeMs, write);

    t0 = System.nanoTime();
    SmException create =
        catchThrowableOfType(
            () -> sr.createVdi(8L * MIB, VdiMetadata.named("never")), SmException.class);
    assertThat(create).isNotNull();
    assertThat(create.toString()).startsWith("SR_BACKEND_FAILURE_");
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(10_000L);

    t0 = System.nanoTime();
    SmException attach =
        catchThrowableOfType(
            () -> NfsConformanceTest.DRIVER.attach(newSrConfigOnDeadServer()), SmException.class);
    assertThat(attach).isNotNull();
    System.out.println("dead server: attach failed: " + attach);
    assertThat(attach.toString()).startsWith("SR_BACKEND_FAILURE_");
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(10_000L);
  }

  private static SrConfig newSrConfigOnDeadServer() {
    return new SrConfig(
        UUID.randomUUID().toString(),
        Map.of(
            "server",
            "127.0.0.1",
            "serverpath",
            GaneshaServer.EXPORT + "/elsewhere",
            "options",
            "timeo=10,retrans=2"));
  }
}
