package org.xsm.server.domain.simulator;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The memory of the simulated domains: each running VM has a real image whose bytes change while it
 * runs (a "guest" rewrites a 4 KiB page every 20 ms), and does not change while it is paused.
 * Suspend and checkpoint save it into a suspend VDI; resume restores exactly those bytes.
 */
@ApplicationScoped
public class MemoryImages {
  /** Size of each simulated memory image. */
  public static final int SIZE_BYTES = 2 * 1024 * 1024;

  private static final class Image {
    final byte[] bytes;
    final Random guest;
    boolean running = true;
    long page;

    Image(byte[] bytes, long seed, boolean running) {
      this.bytes = bytes;
      this.guest = new Random(seed);
      this.running = running;
    }
  }

  private final Map<String, Image> images = new ConcurrentHashMap<>();
  private ScheduledExecutorService guest;

  @jakarta.annotation.PostConstruct
  void startGuests() {
    guest =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "xsm-guests");
              t.setDaemon(true);
              return t;
            });
    guest.scheduleAtFixedRate(this::tick, 20, 20, TimeUnit.MILLISECONDS);
  }

  /**
   * Every running guest writes one page (the scheduler calls this every 20 ms; a caller that needs
   * a guest to have moved on calls it instead of waiting).
   */
  public void tick() {
    for (Image img : images.values()) {
      synchronized (img) {
        if (img.running) {
          int off = (int) (img.page++ % (SIZE_BYTES / 4096)) * 4096;
          byte[] page = new byte[4096];
          img.guest.nextBytes(page);
          System.arraycopy(page, 0, img.bytes, off, 4096);
        }
      }
    }
  }

  /** A fresh image for a starting VM. */
  public void boot(String vm, boolean running) {
    byte[] b = new byte[SIZE_BYTES];
    long seed = vm.hashCode() * 31L + System.nanoTime();
    new Random(seed).nextBytes(b);
    // The guest's writes come from another stream than the initial content, or they would
    // rewrite each page with the bytes it already holds.
    images.put(vm, new Image(b, ~seed * 0x9E3779B97F4A7C15L, running));
  }

  /** Restores a saved image (resume). */
  public void restore(String vm, byte[] saved, boolean running) {
    images.put(vm, new Image(saved.clone(), vm.hashCode() * 17L + System.nanoTime(), running));
  }

  public void setRunning(String vm, boolean running) {
    Image img = images.get(vm);
    if (img != null) {
      synchronized (img) {
        img.running = running;
      }
    }
  }

  /** Whether the VM's guest runs (false when paused or when it has no memory). */
  public boolean running(String vm) {
    Image img = images.get(vm);
    if (img == null) {
      return false;
    }
    synchronized (img) {
      return img.running;
    }
  }

  public void drop(String vm) {
    images.remove(vm);
  }

  /** A consistent copy of the VM's memory now, or null if it has none (not running). */
  public byte[] snapshot(String vm) {
    Image img = images.get(vm);
    if (img == null) {
      return null;
    }
    synchronized (img) {
      return img.bytes.clone();
    }
  }
}
