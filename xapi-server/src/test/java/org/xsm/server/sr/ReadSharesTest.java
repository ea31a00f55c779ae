package org.xsm.server.sr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.xsm.api.VdiDevice;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

class ReadSharesTest {
  private static final Ref<Vdi> A = Ref.of("OpaqueRef:a");
  private static final Ref<Vdi> B = Ref.of("OpaqueRef:b");

  /** Activations that refuse a second attach, like a plugin, and count what happened. */
  static final class Plugin implements ReadShares.Activations {
    final java.util.Set<Ref<Vdi>> active = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final AtomicInteger activations = new AtomicInteger();
    final AtomicInteger deactivations = new AtomicInteger();
    volatile boolean failNext;

    @Override
    public VdiDevice activate(Ref<Vdi> vdi) throws XenApiException {
      if (failNext) {
        failNext = false;
        throw new XenApiException(XenApiError.VDI_MISSING, vdi.value());
      }
      if (!active.add(vdi)) {
        throw new XenApiException(XenApiError.VDI_IN_USE, vdi.value(), "attach");
      }
      activations.incrementAndGet();
      return new Device();
    }

    @Override
    public void deactivate(Ref<Vdi> vdi) {
      assertThat(active.remove(vdi)).as("deactivated while active").isTrue();
      deactivations.incrementAndGet();
    }
  }

  static final class Device implements VdiDevice {
    @Override
    public long sizeBytes() {
      return 4096;
    }

    @Override
    public boolean readOnly() {
      return true;
    }

    @Override
    public void read(ByteBuffer dst, long offset) {}

    @Override
    public void write(ByteBuffer src, long offset) {
      throw new UnsupportedOperationException("read-only");
    }

    @Override
    public void flush() {}
  }

  @Test
  void readersShareOneActivationAndTheLastOneReleasesIt() throws Exception {
    Plugin p = new Plugin();
    ReadShares shares = new ReadShares(p);
    ReadShares.Lease first = shares.acquire(A);
    ReadShares.Lease second = shares.acquire(A);
    assertThat(second.device()).isSameAs(first.device());
    assertThat(p.activations).hasValue(1);
    assertThat(shares.readers(A)).isEqualTo(2);
    first.close();
    first.close(); // a second close of the same lease releases nothing more
    assertThat(p.deactivations).hasValue(0);
    assertThat(second.device()).isNotNull();
    second.close();
    assertThat(p.deactivations).hasValue(1);
    assertThat(shares.readers(A)).isZero();
    // A later reader activates afresh.
    try (ReadShares.Lease third = shares.acquire(A)) {
      assertThat(third.device()).isNotNull();
    }
    assertThat(p.activations).hasValue(2);
    assertThat(p.active).isEmpty();
  }

  @Test
  void differentVdisAreSeparateAndAFailedActivationLeavesNothing() throws Exception {
    Plugin p = new Plugin();
    ReadShares shares = new ReadShares(p);
    try (ReadShares.Lease a = shares.acquire(A)) {
      p.failNext = true;
      assertThatThrownBy(() -> shares.acquire(B))
          .isInstanceOfSatisfying(
              XenApiException.class, e -> assertThat(e.code()).isEqualTo("VDI_MISSING"));
      assertThat(shares.readers(B)).isZero();
      try (ReadShares.Lease b = shares.acquire(B)) {
        assertThat(b.device()).isNotSameAs(a.device());
      }
      assertThat(p.active).containsExactly(A);
    }
    assertThat(p.active).isEmpty();
  }

  @Test
  void concurrentReadersNeverActivateTwiceNorUseAReleasedDevice() throws Exception {
    Plugin p = new Plugin();
    ReadShares shares = new ReadShares(p);
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Integer>> results = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      results.add(
          pool.submit(
              () -> {
                start.await();
                int used = 0;
                for (int i = 0; i < 2_000; i++) {
                  try (ReadShares.Lease l = shares.acquire(i % 3 == 0 ? B : A)) {
                    assertThat(l.device()).isNotNull();
                    assertThat(p.active).contains(i % 3 == 0 ? B : A);
                    used++;
                  }
                }
                return used;
              }));
    }
    start.countDown();
    for (Future<Integer> f : results) {
      assertThat(f.get(120, TimeUnit.SECONDS)).isEqualTo(2_000);
    }
    pool.shutdown();
    assertThat(p.active).isEmpty();
    assertThat(p.activations.get()).isEqualTo(p.deactivations.get());
    assertThat(shares.readers(A) + shares.readers(B)).isZero();
  }
}
