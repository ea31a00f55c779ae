package org.xsm.nfs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.nfs.testing.GaneshaServer;
import org.xsm.plugins.store.ImageFile;

/**
 * One NFS SR attached by two "hosts" at once: two attachments through two NFS connections (one
 * names the server 127.0.0.1, the other localhost, as two hosts of a pool would each mount it).
 * Tree changes from both are serialised by the lock file on the export, so the tree and its
 * operation logs stay consistent; a lock whose owner is alive holds other hosts off.
 */
class NfsSharedSrIT extends GaneshaTest {
  private static final long MIB = 1 << 20;

  private record Shared(SrConfig hostA, SrConfig hostB, Path dir) {}

  private static Shared newSharedSr() throws Exception {
    Path parent = Files.createTempDirectory(ganesha.exportDir(), "shared-");
    String serverpath = GaneshaServer.EXPORT + "/" + parent.getFileName();
    String uuid = UUID.randomUUID().toString();
    SrConfig a = new SrConfig(uuid, Map.of("server", "127.0.0.1", "serverpath", serverpath));
    SrConfig b = new SrConfig(uuid, Map.of("server", "localhost", "serverpath", serverpath));
    NfsConformanceTest.DRIVER.create(a, 0);
    return new Shared(a, b, parent.resolve(uuid));
  }

  private static List<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  private static CompletableFuture<List<String>> snapshotStorm(Sr sr, String label) {
    return CompletableFuture.supplyAsync(
        () -> {
          List<String> made = new ArrayList<>();
          try {
            VdiInfo v = sr.createVdi(8 * MIB, VdiMetadata.named(label));
            made.add(v.uuid());
            for (int i = 0; i < 6; i++) {
              sr.attachVdi(v.location(), true);
              VdiDevice d = sr.activateVdi(v.location());
              d.write(ByteBuffer.wrap(new byte[] {(byte) i}), i * MIB);
              d.flush();
              sr.deactivateVdi(v.location());
              sr.detachVdi(v.location());
              made.add(
                  sr.snapshot(v.location(), SnapshotKind.DOUBLE, VdiMetadata.named(label + i))
                      .uuid());
            }
          } catch (SmException e) {
            throw new IllegalStateException(label + ": " + e, e);
          }
          return made;
        });
  }

  @Test
  void twoHostsChangingOneTreeAtOnceLeaveItConsistent() throws Exception {
    Shared s = newSharedSr();
    Sr a = NfsConformanceTest.DRIVER.attach(s.hostA());
    Sr b = NfsConformanceTest.DRIVER.attach(s.hostB());
    CompletableFuture<List<String>> fromA = snapshotStorm(a, "a");
    CompletableFuture<List<String>> fromB = snapshotStorm(b, "b");
    List<String> made = new ArrayList<>(fromA.get(180, TimeUnit.SECONDS));
    made.addAll(fromB.get(180, TimeUnit.SECONDS));

    List<String> seenByA = a.scan().stream().map(VdiInfo::uuid).sorted().toList();
    List<String> seenByB = b.scan().stream().map(VdiInfo::uuid).sorted().toList();
    assertThat(seenByB).as("both hosts see the same tree").isEqualTo(seenByA);
    assertThat(seenByA).as("every VDI and snapshot either host made").containsAll(made);
    assertThat(files(s.dir()))
        .as("no operation log, lock file or temporary file left")
        .noneMatch(n -> n.startsWith(".oplog-") || n.startsWith(".xsm-lock") || n.endsWith(".tmp"));
    a.detach();
    b.detach();
  }

  @Test
  void aLiveOwnerOnAnotherHostHoldsTreeChangesOff() throws Exception {
    Shared s = newSharedSr();
    Sr b = NfsConformanceTest.DRIVER.attach(s.hostB());
    // A third host takes the lock through its own connection and keeps renewing it.
    NfsMount m =
        NfsMounts.mount(
            Map.of(
                "server",
                "127.0.0.1",
                "serverpath",
                GaneshaServer.EXPORT + "/" + s.dir().getParent().getFileName(),
                "options",
                "timeo=30"));
    NfsImageStore other = m.store(m.directory(s.hostA().srUuid(), false), "other");
    try (ImageFile f = other.create(".xsm-lock")) {
      f.writeFully(
          ByteBuffer.wrap("owner=third-host\nrenewal=0\n".getBytes(StandardCharsets.UTF_8)), 0);
    }
    CompletableFuture<VdiInfo> create =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return b.createVdi(4 * MIB, VdiMetadata.named("waits"));
              } catch (SmException e) {
                throw new IllegalStateException(e);
              }
            });
    for (int i = 1; i <= 20; i++) {
      Thread.sleep(100);
      try (ImageFile f = other.open(".xsm-lock", true)) {
        byte[] rec = ("owner=third-host\nrenewal=" + i + "\n").getBytes(StandardCharsets.UTF_8);
        f.writeFully(ByteBuffer.wrap(rec), 0);
        f.force();
      }
    }
    assertThat(create).as("VDI create while another host holds the lock").isNotDone();
    other.delete(".xsm-lock");
    VdiInfo made = create.get(30, TimeUnit.SECONDS);
    assertThat(b.scan()).extracting(VdiInfo::uuid).contains(made.uuid());
    b.detach();
  }
}
