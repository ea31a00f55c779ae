package org.xsm.server.soak;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * One soak client: its own disks (no other worker touches them, so their expected bytes are known
 * exactly), a random mix of operations over its protocol, and what it does when an answer does not
 * come (the server was killed): it waits for the server, logs in again and finds out what the call
 * did ({@link DiskOps}), so that the model holds only what was acknowledged or found.
 */
final class Worker implements Runnable {
  static final long SIZE = 2L << 20;
  static final int MAX_DISKS = 4;
  static final int MAX_SNAPSHOTS = 3;

  final int id;
  final Rpc rpc;
  final SoakServer server;
  final List<String> srs;
  final Stats stats;
  final Random random;
  final BooleanSupplier running;
  final List<Disk> disks = new ArrayList<>();
  final RawHttp http;
  private final DiskOps ops;
  String session;
  private int names;

  Worker(
      int id, Rpc rpc, SoakServer server, List<String> srs, Stats stats, BooleanSupplier running) {
    this.id = id;
    this.rpc = rpc;
    this.server = server;
    this.srs = srs;
    this.stats = stats;
    this.random = new Random(1000L + id);
    this.running = running;
    this.http = new RawHttp(server.base());
    this.ops = new DiskOps(this);
  }

  /** The SR's kind, for the report: the soak's SRs are the local EXT, the NFS and the iSCSI one. */
  String kind(String sr) {
    int i = srs.indexOf(sr);
    return i < 0 ? sr : List.of("ext", "nfs", "iscsi").get(i);
  }

  /** A name no other call of any worker uses: how a call with no answer is found again. */
  String freshName(String what) {
    return "soak-" + id + "-" + what + "-" + (names++);
  }

  @Override
  public void run() {
    while (running.getAsBoolean()) {
      try {
        ensureSession();
      } catch (Rpc.Failure | IOException e) {
        session = null; // the server went down again before the login: wait for it once more
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      String op = pick();
      long t0 = System.nanoTime();
      try {
        ops.run(op);
        stats.done(op, Stats.Outcome.OK, System.nanoTime() - t0, "");
      } catch (Rpc.Failure f) {
        stats.done(op, Stats.Outcome.REFUSED, 0, f.code());
        if (f.code().equals("SESSION_INVALID")) {
          session = null; // the server restarted between two calls: sessions do not survive it
        }
      } catch (IOException e) {
        stats.done(op, Stats.Outcome.NO_ANSWER, 0, "");
        recover(op);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException | AssertionError e) {
        stats.inconsistency("worker " + id + " " + op + ": " + e);
      }
    }
  }

  private String pick() {
    if (disks.isEmpty()) {
      return "vdi.create";
    }
    int r = random.nextInt(100);
    if (r < 8) {
      return disks.size() < MAX_DISKS ? "vdi.create" : "vdi.destroy";
    } else if (r < 28) {
      return "import.raw";
    } else if (r < 40) {
      return "nbd.write";
    } else if (r < 55) {
      return "export.verify";
    } else if (r < 62) {
      return "nbd.read";
    } else if (r < 72) {
      return "vdi.snapshot";
    } else if (r < 76) {
      return "vdi.clone";
    } else if (r < 80) {
      return "vdi.copy";
    } else if (r < 85) {
      return "vdi.resize";
    } else if (r < 92) {
      return "snapshot.destroy";
    } else {
      return "cbt.changes";
    }
  }

  /** Logs in when there is no session (at first, and after the server came back). */
  void ensureSession() throws Rpc.Failure, IOException, InterruptedException {
    if (session == null) {
      if (!server.awaitUp(300)) {
        throw new IOException("the server is not up");
      }
      session = rpc.login(SoakServer.PASSWORD);
    }
  }

  /** After a call with no answer: a new session, then what the call did is found out. */
  private void recover(String op) {
    session = null;
    for (int attempt = 0; attempt < 20 && running.getAsBoolean(); attempt++) {
      try {
        ensureSession();
        ops.reconcile(op);
        return;
      } catch (Rpc.Failure | IOException e) {
        session = null; // the server died again meanwhile: wait for it once more
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** At the end: disks whose bytes are unknown are written whole again, then every one checked. */
  void finish() throws Exception {
    session = null;
    ensureSession();
    for (Disk d : new ArrayList<>(disks)) {
      if (d.unknown) {
        try {
          ops.writeWhole(d);
        } catch (Rpc.Failure f) {
          if (!f.code().equals("SR_BACKEND_FAILURE_44")) {
            throw f;
          }
          // Its SR is full: the disk, whose bytes nobody acknowledged, goes with its snapshots.
          ops.destroyWithSnapshots(d);
        }
      }
    }
    for (Disk d : disks) {
      ops.verify(d, "final");
      for (Disk s : d.snapshots) {
        ops.verify(s, "final");
      }
    }
  }

  /** Every VDI this worker believes exists, by reference. */
  Map<String, Disk> known() {
    Map<String, Disk> out = new java.util.HashMap<>();
    for (Disk d : disks) {
      out.put(d.ref, d);
      for (Disk s : d.snapshots) {
        out.put(s.ref, s);
      }
    }
    return out;
  }
}
