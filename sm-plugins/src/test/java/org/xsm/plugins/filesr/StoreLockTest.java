package org.xsm.plugins.filesr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.plugins.store.LocalImageStore;

/**
 * The lock file shared by hosts, with two {@link StoreLock}s on one directory standing for two
 * hosts (the NFS backend's integration test runs it over a real export): mutual exclusion, a waiter
 * not taking over a lock whose owner keeps renewing it, stale-lock takeover after one lease, and an
 * owner noticing its lock was taken.
 */
class StoreLockTest {
  @TempDir Path dir;

  private StoreLock host(Duration lease) throws Exception {
    return new StoreLock(LocalImageStore.open(dir), lease, Duration.ofSeconds(20));
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Another host taking the lock over behind the owner's back. */
  private void replaceLockFile() {
    try {
      Files.delete(dir.resolve(StoreLock.NAME));
      Files.writeString(dir.resolve(StoreLock.NAME), "owner=other\n");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void twoHostsNeverHoldTheLockTogether() throws Exception {
    StoreLock a = host(Duration.ofSeconds(5));
    StoreLock b = host(Duration.ofSeconds(5));
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger maxInside = new AtomicInteger();
    AtomicInteger runs = new AtomicInteger();
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (StoreLock l : List.of(a, b)) {
      workers.add(
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 20; i++) {
                  try {
                    l.run(
                        () -> {
                          maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                          sleep(2);
                          runs.incrementAndGet();
                          inside.decrementAndGet();
                          return null;
                        });
                  } catch (SmException e) {
                    throw new IllegalStateException(e);
                  }
                }
              }));
    }
    for (CompletableFuture<Void> w : workers) {
      w.get(60, TimeUnit.SECONDS);
    }
    assertThat(runs.get()).isEqualTo(40);
    assertThat(maxInside.get()).as("holders at the same time").isEqualTo(1);
    assertThat(Files.exists(dir.resolve(StoreLock.NAME))).as("lock file after release").isFalse();
  }

  @Test
  void aLockWhoseOwnerRenewsItIsWaitedForNotTakenOver() throws Exception {
    Duration lease = Duration.ofMillis(300);
    StoreLock a = host(lease);
    StoreLock b = host(lease);
    CompletableFuture<Void> holding = new CompletableFuture<>();
    CompletableFuture<Void> aDone =
        CompletableFuture.runAsync(
            () -> {
              try {
                a.run(
                    () -> {
                      holding.complete(null);
                      sleep(1500); // five leases: only renewals keep it
                      return null;
                    });
              } catch (SmException e) {
                throw new IllegalStateException(e);
              }
            });
    holding.get(10, TimeUnit.SECONDS);
    long t0 = System.nanoTime();
    b.run(() -> null);
    long waitedMs = (System.nanoTime() - t0) / 1_000_000;
    aDone.get(10, TimeUnit.SECONDS); // a's release found its own record: not taken over
    assertThat(waitedMs).as("b waited for a's release").isGreaterThan(1000);
  }

  @Test
  void aStaleLockIsTakenOverAfterOneLease() throws Exception {
    // A host that died holding the lock: its record never changes again.
    Files.writeString(
        dir.resolve(StoreLock.NAME), "owner=dead-host\nhost=gone\npid=1\nsince=x\nrenewal=0\n");
    StoreLock b = host(Duration.ofMillis(400));
    long t0 = System.nanoTime();
    assertThat(b.run(() -> "ran")).isEqualTo("ran");
    long waitedMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(waitedMs).as("waited one lease, no longer than needed").isBetween(400L, 5000L);
    assertThat(Files.exists(dir.resolve(StoreLock.NAME))).isFalse();
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).as("nothing left aside").isEmpty();
    }
  }

  @Test
  void anEmptyLockFileFromAHostThatDiedBeforeWritingIsTakenOverToo() throws Exception {
    Files.createFile(dir.resolve(StoreLock.NAME));
    assertThat(host(Duration.ofMillis(300)).run(() -> 1)).isEqualTo(1);
  }

  @Test
  void anOwnerWhoseLockWasTakenReportsTheLossAtRelease() throws Exception {
    StoreLock a = host(Duration.ofSeconds(30));
    assertThatThrownBy(
            () ->
                a.run(
                    () -> {
                      replaceLockFile();
                      return null;
                    }))
        .isInstanceOfSatisfying(
            SmException.class, e -> assertThat(e.error()).isEqualTo(SmError.SR_UNAVAILABLE))
        .hasMessageContaining("was lost");
  }
}
