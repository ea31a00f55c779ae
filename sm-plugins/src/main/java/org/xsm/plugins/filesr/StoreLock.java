package org.xsm.plugins.filesr;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * The SR lock between hosts that share a store (an NFS export): the file {@code .xsm-lock}, held by
 * whoever created it. Taken around every operation that holds the in-process SR lock ({@link
 * FileSr#locked}), so snapshots, clones, deletes, GC steps and their operation logs ({@link OpLog})
 * never interleave between hosts, and attach-time recovery never rolls back another host's
 * operation that is still running.
 *
 * <p>Acquire: an exclusive create of the lock file ({@link ImageStore#create}, on NFS a CREATE that
 * fails with NFS3ERR_EXIST when the file exists), then the owner record is written into it: owner
 * token (one per attached SR object), host, pid, time, and a renewal counter.
 *
 * <p>Lease: while held, the owner rewrites the record every {@code lease / 3} (the counter goes
 * up).
 *
 * <p>Stale locks: a waiter reads the record each time its create fails. If the record has not
 * changed for a whole lease by the waiter's own clock (so no clock agreement between hosts is
 * needed), the owner is taken to be dead: the waiter renames the file to {@code
 * .xsm-lock.stale-<its token>} (atomic; of several waiters only one rename finds the file), checks
 * that the renamed record is the stale one it watched, deletes it and tries the create again. An
 * empty or unreadable record (an owner that died between create and write) is treated the same way.
 * If the renamed record is not the stale one (the owner renewed in the instant between the check
 * and the rename: it had been silent for a whole lease, so it was hung, not dead), the owner finds
 * its lock gone at its next renewal and its following release reports the loss as an error.
 *
 * <p>Release: the owner checks the record is still its own and deletes the file. A release that
 * fails (server gone) leaves a lock nobody renews, which others take over after one lease.
 */
final class StoreLock {
  static final String NAME = ".xsm-lock";
  private static final ScheduledExecutorService RENEWER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "xsm-store-lock-renewer");
            t.setDaemon(true);
            return t;
          });

  /** This host's name, resolved once: the record is rewritten at every renewal. */
  private static final String HOST = hostName();

  private final ImageStore store;
  private final Duration lease;
  private final Duration acquireTimeout;
  private final String token = UUID.randomUUID().toString();
  private final java.util.concurrent.atomic.AtomicLong counter =
      new java.util.concurrent.atomic.AtomicLong();
  private volatile ScheduledFuture<?> renewal;
  private volatile String lost;
  private volatile IOException renewalError;

  StoreLock(ImageStore store, Duration lease, Duration acquireTimeout) {
    this.store = store;
    this.lease = lease;
    this.acquireTimeout = acquireTimeout;
  }

  /** Runs {@code op} holding the lock file. */
  <T> T run(FileSr.Op<T> op) throws SmException {
    try {
      acquire();
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_UNAVAILABLE, "taking the SR lock " + store.describe(NAME));
    }
    T result;
    try {
      result = op.run();
    } catch (SmException | RuntimeException e) {
      try {
        release();
      } catch (IOException | SmException r) {
        e.addSuppressed(r);
      }
      throw e;
    }
    try {
      release();
    } catch (IOException e) {
      throw SmErrors.of(e, SmError.SR_UNAVAILABLE, "releasing the SR lock " + store.describe(NAME));
    }
    return result;
  }

  private String record() {
    return "owner="
        + token
        + "\nhost="
        + HOST
        + "\npid="
        + ProcessHandle.current().pid()
        + "\nsince="
        + Instant.now()
        + "\nrenewal="
        + counter.getAndIncrement()
        + "\n";
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")"; // the record is for people; the token decides
    }
  }

  private void acquire() throws IOException {
    long deadline = System.nanoTime() + acquireTimeout.toNanos();
    String watched = null;
    long watchedSince = 0;
    long sleepMillis = 20;
    while (true) {
      ImageFile f;
      try {
        f = store.create(NAME);
      } catch (FileAlreadyExistsException e) {
        String seen = readOrEmpty(NAME);
        long now = System.nanoTime();
        if (seen == null) {
          continue; // released in between
        }
        if (!seen.equals(watched)) {
          watched = seen;
          watchedSince = now;
        } else if (now - watchedSince > lease.toNanos()) {
          takeOver();
          watched = null;
          continue;
        }
        if (now - deadline > 0) {
          throw new IOException(
              "the SR lock is held by another host for more than "
                  + acquireTimeout.toSeconds()
                  + " s: "
                  + seen.replace('\n', ' ').trim());
        }
        sleep(sleepMillis);
        sleepMillis = Math.min(sleepMillis * 2, 500);
        continue;
      }
      try (f) {
        write(f, record());
        break;
      } catch (IOException e) {
        // Do not leave an empty lock behind (others would wait a lease for it).
        try {
          store.delete(NAME);
        } catch (IOException d) {
          e.addSuppressed(d);
        }
        throw e;
      }
    }
    lost = null;
    renewalError = null;
    long period = Math.max(1, lease.toMillis() / 3);
    renewal = RENEWER.scheduleWithFixedDelay(this::renew, period, period, TimeUnit.MILLISECONDS);
  }

  private void takeOver() throws IOException {
    String aside = NAME + ".stale-" + token;
    try {
      store.rename(NAME, aside);
    } catch (NoSuchFileException e) {
      return; // another waiter took it over first
    }
    // If the record moved aside is not the stale one, its owner renewed at the last instant: it
    // finds its lock gone at its next renewal or release (see the class comment).
    store.delete(aside);
    store.syncMetadata();
  }

  private void renew() {
    if (renewal == null) {
      return;
    }
    try {
      String seen = readOrEmpty(NAME);
      if (seen == null || !seen.startsWith("owner=" + token + "\n")) {
        lost = "lock file taken over by another host: " + seen;
        return;
      }
      try (ImageFile f = store.open(NAME, true)) {
        write(f, record());
      }
    } catch (IOException e) {
      // Not fatal by itself (the next renewal may pass); if renewals keep failing, others take
      // the lock over and release() reports the loss with this error.
      renewalError = e;
    }
  }

  private void release() throws IOException, SmException {
    ScheduledFuture<?> r = renewal;
    renewal = null;
    if (r != null) {
      r.cancel(false);
    }
    String seen = readOrEmpty(NAME);
    if (seen != null && seen.startsWith("owner=" + token + "\n")) {
      store.delete(NAME);
      store.syncMetadata();
      return;
    }
    String why = lost != null ? lost : "lock file now holds: " + seen;
    SmException e =
        new SmException(
            SmError.SR_UNAVAILABLE,
            "the SR lock " + store.describe(NAME) + " was lost (" + why + ")");
    if (renewalError != null) {
      e.addSuppressed(renewalError);
    }
    throw e;
  }

  private static void write(ImageFile f, String record) throws IOException {
    byte[] b = record.getBytes(StandardCharsets.UTF_8);
    f.writeFully(ByteBuffer.wrap(b), 0);
    f.truncate(b.length);
    f.force();
  }

  /** The record, "" if the file is empty, or null if there is no lock file. */
  private String readOrEmpty(String name) throws IOException {
    try (ImageFile f = store.open(name, false)) {
      ByteBuffer b = ByteBuffer.allocate((int) Math.min(f.size(), 4096));
      while (b.hasRemaining() && f.read(b, b.position()) > 0) {
        // read until full or end of file
      }
      return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private static void sleep(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted waiting for the SR lock");
    }
  }
}
