package org.xsm.nfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xsm.nfs.client.FileHandle;
import org.xsm.nfs.client.Mount3Client;
import org.xsm.nfs.client.Nfs3Client;
import org.xsm.nfs.client.NfsException;
import org.xsm.nfs.client.Portmapper;
import org.xsm.nfs.rpc.RpcException;
import org.xsm.nfs.rpc.RpcOptions;
import org.xsm.nfs.testing.GaneshaServer;
import org.xsm.plugins.store.ImageFile;

/**
 * The NFSv3 client and the image store against a real nfs-ganesha: each procedure, checked through
 * the server's exported directory on the local disk as an independent view.
 */
class NfsClientIT extends GaneshaTest {
  Path local;
  NfsMount mount;
  NfsImageStore store;

  @BeforeEach
  void newDirectory() throws Exception {
    local = Files.createTempDirectory(ganesha.exportDir(), "client-");
    String rel = local.getFileName().toString();
    mount =
        NfsMounts.mount(
            Map.of("server", "127.0.0.1", "serverpath", GaneshaServer.EXPORT + "/" + rel));
    store = mount.store(mount.root(), rel);
  }

  private Nfs3Client client() {
    return mount.client();
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void largeWritesAndReadsAreSplitPipelinedAndLandWhereAsked() throws Exception {
    assertThat(mount.writeSize()).as("WRITE size from FSINFO").isBetween(4096, 1 << 20);
    byte[] data = random(5 * mount.writeSize() + 12345, 1);
    try (ImageFile f = store.create("big")) {
      f.writeFully(ByteBuffer.wrap(data), 777);
      f.force();
      assertThat(f.size()).isEqualTo(777L + data.length);
    }
    byte[] onDisk = Files.readAllBytes(local.resolve("big"));
    assertThat(onDisk).hasSize(777 + data.length);
    for (int i = 0; i < 777; i++) {
      assertThat(onDisk[i]).as("hole before the write reads as zero").isZero();
    }
    assertThat(java.util.Arrays.copyOfRange(onDisk, 777, onDisk.length)).isEqualTo(data);
    try (ImageFile f = store.open("big", false)) {
      ByteBuffer back = ByteBuffer.allocate(data.length);
      f.readFully(back, 777);
      assertThat(back.array()).isEqualTo(data);
      ByteBuffer tail = ByteBuffer.allocate(100);
      assertThat(f.read(tail, 777L + data.length - 10)).as("short read at the end").isEqualTo(10);
      assertThat(f.read(ByteBuffer.allocate(10), 777L + data.length)).as("at EOF").isEqualTo(-1);
      assertThatThrownBy(() -> f.write(ByteBuffer.allocate(1), 0))
          .isInstanceOf(NonWritableChannelException.class);
    }
  }

  @Test
  void truncateGrowsWithAHoleAndShrinks() throws Exception {
    try (ImageFile f = store.create("t")) {
      f.writeFully(ByteBuffer.wrap(random(1000, 2)), 0);
      f.truncate(10L << 20);
      assertThat(Files.size(local.resolve("t"))).isEqualTo(10L << 20);
      ByteBuffer b = ByteBuffer.allocate(4096);
      f.readFully(b, 5L << 20);
      assertThat(b.array()).containsOnly(0);
      f.truncate(10);
      assertThat(f.size()).isEqualTo(10);
    }
    assertThat(Files.size(local.resolve("t"))).isEqualTo(10);
  }

  @Test
  void createIsExclusiveAndGuardedCreateRefusesAnExistingName() throws Exception {
    store.create("x").close();
    assertThatThrownBy(() -> store.create("x")).isInstanceOf(FileAlreadyExistsException.class);
    FileHandle dir = mount.root();
    client().createGuarded(dir, "g", 0644);
    assertThatThrownBy(() -> client().createGuarded(dir, "g", 0644))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining("NFS3ERR_EXIST");
    // EXCLUSIVE with the same verifier is the same create again (a retransmission): it succeeds.
    Nfs3Client.Entry e1 = client().createExclusive(dir, "e", 42, 0600);
    Nfs3Client.Entry e2 = client().createExclusive(dir, "e", 42, 0600);
    assertThat(e2.handle()).isEqualTo(e1.handle());
    assertThatThrownBy(() -> client().createExclusive(dir, "e", 43, 0600))
        .isInstanceOf(FileAlreadyExistsException.class);
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(local.resolve("e"))))
        .isEqualTo("rw-------");
  }

  @Test
  void renameReplacesTheTargetAndMissingNamesAreNoSuchFile() throws Exception {
    Files.writeString(local.resolve("a"), "new");
    Files.writeString(local.resolve("b"), "old");
    store.rename("a", "b");
    assertThat(Files.readString(local.resolve("b"))).isEqualTo("new");
    assertThat(store.exists("a")).isFalse();
    assertThatThrownBy(() -> store.rename("a", "c")).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> store.open("a", false)).isInstanceOf(NoSuchFileException.class);
    try (ImageFile open = store.open("b", false)) {
      store.delete("b");
      // A READ error status takes the usual reply path, not the direct-to-buffer one; a removed
      // file's handle is stale, which reads as the file being gone.
      assertThatThrownBy(() -> open.read(ByteBuffer.allocate(10), 0))
          .isInstanceOf(NoSuchFileException.class)
          .hasMessageContaining("READ")
          .hasMessageContaining("NFS3ERR_STALE");
    }
    assertThat(Files.exists(local.resolve("b"))).isFalse();
    assertThatThrownBy(() -> store.delete("b")).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> store.create("../escape"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void listingFollowsCookiesThroughALargeDirectory() throws Exception {
    Set<String> expected = new HashSet<>();
    for (int i = 0; i < 1500; i++) {
      String name = "file-with-a-longish-name-" + i + ".vhd";
      Files.createFile(local.resolve(name));
      expected.add(name);
    }
    Files.createDirectory(local.resolve("subdir"));
    List<String> listed = store.list();
    assertThat(listed).hasSize(1500);
    assertThat(new HashSet<>(listed)).isEqualTo(expected);
    assertThat(store.directories()).containsExactly("subdir");
  }

  @Test
  void directoriesAndFilesystemFigures() throws Exception {
    FileHandle d = client().mkdir(mount.root(), "d", 0755, false);
    assertThat(Files.isDirectory(local.resolve("d"))).isTrue();
    assertThat(client().mkdir(mount.root(), "d", 0755, true)).isEqualTo(d);
    assertThatThrownBy(() -> client().mkdir(mount.root(), "d", 0755, false))
        .isInstanceOf(FileAlreadyExistsException.class);
    Files.createFile(local.resolve("d/f"));
    assertThatThrownBy(() -> client().rmdir(mount.root(), "d"))
        .isInstanceOf(java.nio.file.DirectoryNotEmptyException.class);
    Files.delete(local.resolve("d/f"));
    client().rmdir(mount.root(), "d");
    assertThat(Files.exists(local.resolve("d"))).isFalse();
    int granted = client().access(mount.root(), Nfs3Client.ACCESS_READ | Nfs3Client.ACCESS_MODIFY);
    assertThat(granted & Nfs3Client.ACCESS_MODIFY).as("root may modify the export").isNotZero();
    long free = Files.getFileStore(local).getUsableSpace();
    assertThat(store.capacityBytes()).isGreaterThanOrEqualTo(store.freeBytes());
    assertThat((double) store.freeBytes())
        .isCloseTo(free, org.assertj.core.data.Percentage.withPercentage(5));
  }

  private static org.xsm.api.SmError errorOf(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable c) {
    org.xsm.api.SmException e =
        org.assertj.core.api.Assertions.catchThrowableOfType(c, org.xsm.api.SmException.class);
    assertThat(e).as("an SmException").isNotNull();
    return e.error();
  }

  @Test
  void configurationErrorsNameTheProblem() {
    org.xsm.api.SmDriver d = NfsConformanceTest.DRIVER;
    assertThatThrownBy(() -> d.probe(Map.of("server", "127.0.0.1")))
        .as("probe without serverpath lists the exports")
        .hasMessageContaining("serverpath is required")
        .hasMessageContaining(GaneshaServer.EXPORT);
    Map<String, String> ok = Map.of("server", "127.0.0.1", "serverpath", GaneshaServer.EXPORT);
    String sr = java.util.UUID.randomUUID().toString();
    java.util.function.Function<Map<String, String>, org.xsm.api.SrConfig> with =
        extra -> {
          Map<String, String> m = new java.util.HashMap<>(ok);
          m.putAll(extra);
          return new org.xsm.api.SrConfig(sr, m);
        };
    assertThat(errorOf(() -> d.attach(with.apply(Map.of("nfsversion", "4")))))
        .isEqualTo(org.xsm.api.SmError.NFS_VERSION);
    assertThat(errorOf(() -> d.attach(with.apply(Map.of("options", "timeo=abc")))))
        .isEqualTo(org.xsm.api.SmError.BAD_REQUEST);
    assertThat(errorOf(() -> d.attach(with.apply(Map.of("options", "wsize=4096")))))
        .isEqualTo(org.xsm.api.SmError.BAD_REQUEST);
    assertThat(errorOf(() -> d.attach(with.apply(Map.of("serverpath", "/not/exported")))))
        .isEqualTo(org.xsm.api.SmError.NFS_MOUNT);
    assertThat(errorOf(() -> d.attach(with.apply(Map.of("mountpoint", "/tmp")))))
        .isEqualTo(org.xsm.api.SmError.BAD_REQUEST);
    assertThat(errorOf(() -> d.attach(with.apply(Map.of()))))
        .as("no SR directory")
        .isEqualTo(org.xsm.api.SmError.SR_UNAVAILABLE);
  }

  @Test
  void aReadOnlyExportIsRefusedAsNotWritable() throws Exception {
    org.xsm.api.SmDriver d = NfsConformanceTest.DRIVER;
    String sr = java.util.UUID.randomUUID().toString();
    org.xsm.api.SrConfig config =
        new org.xsm.api.SrConfig(
            sr, Map.of("server", "127.0.0.1", "serverpath", GaneshaServer.READ_ONLY_EXPORT));
    assertThat(errorOf(() -> d.create(config, 0)))
        .as("SR.create on a read-only export")
        .isEqualTo(org.xsm.api.SmError.SHARED_FS_NO_WRITE);
    Files.createDirectory(ganesha.readOnlyExportDir().resolve(sr));
    assertThat(errorOf(() -> d.attach(config)))
        .as("attach on a read-only export")
        .isEqualTo(org.xsm.api.SmError.SHARED_FS_NO_WRITE);
  }

  @Test
  void mountAndPortmapperFailuresAreClear() throws Exception {
    RpcOptions o = RpcOptions.DEFAULT;
    assertThat(Mount3Client.exports(ganesha.mountd(), o)).contains(GaneshaServer.EXPORT);
    assertThatThrownBy(() -> Mount3Client.mount(ganesha.mountd(), "/no/such/export", o))
        .isInstanceOf(NfsException.class)
        .hasMessageContaining("MNT /no/such/export refused");
    assertThatThrownBy(() -> Portmapper.getPort("127.0.0.1", 111, 399999, 1, o))
        .isInstanceOf(RpcException.class)
        .hasMessageContaining("not registered");
    assertThat(Portmapper.getPort("127.0.0.1", 111, Nfs3Client.PROGRAM, 3, o))
        .isEqualTo(ganesha.nfsPort());
  }
}
