package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Task;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import io.quarkus.test.junit.QuarkusTest;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Incremental backups as Xen Orchestra makes them: {@code export_raw_vdi} with {@code base=} is a
 * differencing VHD naming the base (checked field by field and read by qemu-img), from CBT when
 * both VDIs track changes, and a full export plus its deltas restores a new VDI byte for byte;
 * uploads answer 200 before the body (the connector's empty probe), and VHDs whose geometry
 * addresses more than their size (vhd-lib's) import.
 */
@QuarkusTest
class TransferDeltaTest extends SdkTest {
  private static final int MIB = 1024 * 1024;
  private static final int SIZE = 16 * MIB;

  @TempDir Path tmp;

  private Transfers t() {
    return new Transfers(c, url);
  }

  private static byte[] image(long seed) {
    byte[] b = new byte[SIZE];
    Random r = new Random(seed);
    byte[] x = new byte[2 * MIB];
    r.nextBytes(x);
    System.arraycopy(x, 0, b, MIB, 2 * MIB);
    System.arraycopy(x, 0, b, 10 * MIB, 4096);
    return b;
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
    return out;
  }

  private static long u32(byte[] b, int off) {
    return ByteBuffer.wrap(b, off, 4).getInt() & 0xffffffffL;
  }

  private static UUID uuid(byte[] b, int off) {
    ByteBuffer x = ByteBuffer.wrap(b, off, 16);
    return new UUID(x.getLong(), x.getLong());
  }

  private static byte[] footer(byte[] vhd) {
    return Arrays.copyOfRange(vhd, vhd.length - 512, vhd.length);
  }

  /** Changes {@code n} bytes at each offset. */
  private static byte[] changed(byte[] before, long seed, int... offsets) {
    byte[] after = before.clone();
    Random r = new Random(seed);
    for (int off : offsets) {
      byte[] x = new byte[4096];
      r.nextBytes(x);
      System.arraycopy(x, 0, after, off, x.length);
    }
    return after;
  }

  @Test
  void deltaIsADifferencingVhdNamingItsBaseAndQemuReadsIt() throws Exception {
    VDI v = newVdi("delta-fields", SIZE);
    byte[] before = image(1);
    assertThat(t().put(v, "raw", before).succeeded()).isTrue();
    VDI base = v.snapshot(c, Map.of());
    byte[] after = changed(before, 2, 5 * MIB, 12 * MIB + 512);
    assertThat(t().put(v, "raw", after).succeeded()).isTrue();
    byte[] full = t().get(base, "vhd", "");
    byte[] delta = t().get(v, "vhd", "&base=" + base.toWireString());

    byte[] f = footer(delta);
    assertThat(u32(f, 60)).as("disk type: differencing").isEqualTo(4);
    assertThat(Arrays.copyOfRange(delta, 0, 512)).as("footer copy").isEqualTo(f);
    assertThat(uuid(f, 68)).isEqualTo(UUID.fromString(v.getUuid(c)));
    byte[] baseFooter = footer(full);
    assertThat(u32(baseFooter, 60)).as("a full export is dynamic").isEqualTo(3);
    String baseUuid = base.getUuid(c);
    assertThat(uuid(baseFooter, 68)).isEqualTo(UUID.fromString(baseUuid));
    // Dynamic header at 512: parent UUID (40), parent timestamp (56), parent name (64, UTF-16BE).
    assertThat(uuid(delta, 512 + 40)).isEqualTo(UUID.fromString(baseUuid));
    assertThat(u32(delta, 512 + 56)).as("parent timestamp").isEqualTo(u32(baseFooter, 24));
    String name =
        new String(delta, 512 + 64, 2 * (baseUuid.length() + 4), StandardCharsets.UTF_16BE);
    assertThat(name).isEqualTo(baseUuid + ".vhd");
    // First parent locator: MACX with a relative file URL.
    int loc = 512 + 576;
    assertThat(new String(delta, loc, 4, StandardCharsets.US_ASCII)).isEqualTo("MACX");
    int len = (int) u32(delta, loc + 8);
    int at = (int) ByteBuffer.wrap(delta, loc + 16, 8).getLong();
    assertThat(new String(delta, at, len, StandardCharsets.UTF_8))
        .isEqualTo("file://./" + baseUuid + ".vhd");
    assertThat(delta.length)
        .as("2 changed blocks")
        .isEqualTo(512 + 1024 + 512 + 3 * 512 + 2L * (512 + 2 * MIB) + 512);

    // qemu-img as the independent reader: qemu's vpc driver has no backing files, so it reads the
    // delta alone; the blocks it maps as data, laid over the base, must give the VDI.
    Path d = tmp.resolve("delta.vhd");
    Files.write(d, delta);
    assertThat(run("/usr/bin/qemu-img", "info", "-f", "vpc", d.toString()))
        .contains("virtual size: 16 MiB");
    Path deltaRaw = tmp.resolve("delta.raw");
    run(
        "/usr/bin/qemu-img",
        "convert",
        "-f",
        "vpc",
        "-O",
        "raw",
        d.toString(),
        deltaRaw.toString());
    byte[] dr = Files.readAllBytes(deltaRaw);
    byte[] composed = before.clone();
    String map = run("/usr/bin/qemu-img", "map", "--output=json", "-f", "vpc", d.toString());
    Matcher m =
        Pattern.compile("\"start\": (\\d+), \"length\": (\\d+), [^}]*\"data\": true").matcher(map);
    long mapped = 0;
    while (m.find()) {
      int s = Integer.parseInt(m.group(1));
      int l = Integer.parseInt(m.group(2));
      System.arraycopy(dr, s, composed, s, l);
      mapped += l;
    }
    assertThat(mapped).as(map).isEqualTo(2L * 2 * MIB);
    assertThat(composed).isEqualTo(after);

    // qemu-img opening the delta over its base as a backing file: the same delta as qcow2
    // (format=qcow2&base=, whose backing file is <base-uuid>.qcow2), beside the base's own
    // export under that name; the chain qemu opens must equal the VDI, and the delta itself covers
    // only the two changed blocks, data or zeros over the base (vhd-lib's merge of the VHD chain is
    // xo_delta_test's check).
    Path q = tmp.resolve("qcow2-chain");
    Files.createDirectories(q);
    Files.write(q.resolve(baseUuid + ".qcow2"), t().get(base, "qcow2", ""));
    Path overlay = q.resolve("delta.qcow2");
    Files.write(overlay, t().get(v, "qcow2", "&base=" + base.toWireString()));
    Path afterRaw = tmp.resolve("after.raw");
    Files.write(afterRaw, after);
    assertThat(run("/usr/bin/qemu-img", "info", "--backing-chain", overlay.toString()))
        .contains("backing file: " + baseUuid + ".qcow2")
        .contains("image: " + q.resolve(baseUuid + ".qcow2"));
    assertThat(
            run(
                "/usr/bin/qemu-img",
                "compare",
                "-f",
                "qcow2",
                "-F",
                "raw",
                overlay.toString(),
                afterRaw.toString()))
        .contains("Images are identical");
    String chainMap =
        run("/usr/bin/qemu-img", "map", "--output=json", "-f", "qcow2", overlay.toString());
    Matcher own =
        Pattern.compile("\"length\": (\\d+), \"depth\": 0, \"present\": true").matcher(chainMap);
    long inDelta = 0;
    while (own.find()) {
      inDelta += Long.parseLong(own.group(1));
    }
    assertThat(inDelta).as(chainMap).isEqualTo(2L * 2 * MIB);
  }

  @Test
  void withCbtAFullAndThreeDeltasRestoreANewVdiByteForByte() throws Exception {
    VDI v = newVdi("cbt-chain", SIZE);
    v.enableCbt(c);
    byte[] content = image(3);
    assertThat(t().put(v, "raw", content).succeeded()).isTrue();
    VDI snap = v.snapshot(c, Map.of());
    List<byte[]> exports = new ArrayList<>();
    exports.add(t().get(snap, "vhd", ""));
    List<byte[]> states = new ArrayList<>();
    states.add(content);
    VDI previous = snap;
    for (int i = 1; i <= 3; i++) {
      content = changed(content, 10 + i, i * 3 * MIB + 4096, (i + 1) * 2 * MIB - 512);
      assertThat(t().put(v, "raw", content).succeeded()).isTrue();
      VDI next = v.snapshot(c, Map.of());
      byte[] delta = t().get(next, "vhd", "&base=" + previous.toWireString());
      assertThat(u32(footer(delta), 60)).isEqualTo(4);
      assertThat(uuid(delta, 512 + 40)).isEqualTo(UUID.fromString(previous.getUuid(c)));
      exports.add(delta);
      states.add(content);
      // As Xen Orchestra: the old snapshot's data goes, its CBT log stays and still bases a delta.
      previous.dataDestroy(c);
      previous = next;
    }
    byte[] again = t().get(previous, "vhd", "&base=" + previous.toWireString());
    assertThat(again.length)
        .as("no changes from a snapshot to itself")
        .isEqualTo(512 + 1024 + 512 + 3 * 512 + 512);

    VDI restored = newVdi("cbt-restored", SIZE);
    for (int i = 0; i < exports.size(); i++) {
      Transfers.Upload u = t().put(restored, "vhd", exports.get(i));
      assertThat(u.succeeded()).as(u.error()).isTrue();
      assertThat(t().get(restored, "raw", "")).as("after export %d", i).isEqualTo(states.get(i));
    }
  }

  @Test
  void uploadsAnswer200BeforeTheBodyAndAnEmptyProbeLeavesTheVdiAlone() throws Exception {
    VDI v = newVdi("probe", SIZE);
    byte[] img = image(4);
    assertThat(t().put(v, "raw", img).succeeded()).isTrue();
    // xen-api's putResource probe: the same URL without task_id, an empty body.
    HttpResponse<String> probe =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(t().uri("/import_raw_vdi", v, "&format=vhd"))
                    .PUT(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(probe.statusCode()).isEqualTo(200);
    assertThat(probe.headers().firstValue("task-id")).isPresent();
    Task probeTask = Types.toTask(probe.headers().firstValue("task-id").get());
    assertThat(t().settle(probeTask)).isEqualTo(Types.TaskStatusType.FAILURE);
    assertThat(probeTask.getErrorInfo(c)).contains("IMPORT_ERROR");
    assertThat(t().get(v, "raw", "")).isEqualTo(img);
    Transfers.Upload empty = t().put(v, "raw", new byte[0]);
    assertThat(empty.status()).isEqualTo(200);
    assertThat(empty.error()).contains("truncated upload: got 0");
    assertThat(t().get(v, "raw", "")).isEqualTo(img);
  }

  @Test
  void aVhdWhoseGeometryAddressesMoreThanItsSizeImportsAsVhdLibMakesThem() throws Exception {
    VDI src = newVdi("xo-geometry-src", SIZE);
    byte[] img = image(5);
    assertThat(t().put(src, "raw", img).succeeded()).isTrue();
    byte[] vhd = t().get(src, "vhd", "");
    // vhd-lib's footer: creator "xo  " and the cylinders rounded up: 16 MiB is 32768 sectors, 17
    // per track, 4 heads: 481.9 cylinders, which vhd-lib makes 482 (32776 sectors, past the end).
    byte[] f = footer(vhd);
    f[28] = 'x';
    f[29] = 'o';
    f[30] = ' ';
    f[31] = ' ';
    assertThat(ByteBuffer.wrap(f, 56, 2).getShort())
        .as("the spec's cylinders")
        .isEqualTo((short) 481);
    ByteBuffer.wrap(f, 56, 2).putShort((short) 482);
    long sum = 0;
    Arrays.fill(f, 64, 68, (byte) 0);
    for (byte b : f) {
      sum += b & 0xff;
    }
    ByteBuffer.wrap(f, 64, 4).putInt((int) ~sum);
    System.arraycopy(f, 0, vhd, 0, 512);
    System.arraycopy(f, 0, vhd, vhd.length - 512, 512);
    VDI dst = newVdi("xo-geometry-dst", SIZE);
    Transfers.Upload u = t().put(dst, "vhd", vhd);
    assertThat(u.succeeded()).as(u.error()).isTrue();
    assertThat(t().get(dst, "raw", "")).isEqualTo(img);
  }

  @Test
  void aDeltaAppliesOnlyItsPresentSectors() throws Exception {
    VDI v = newVdi("sectors", SIZE);
    byte[] before = image(6);
    assertThat(t().put(v, "raw", before).succeeded()).isTrue();
    VDI base = v.snapshot(c, Map.of());
    byte[] after = changed(before, 7, MIB + 8192);
    assertThat(t().put(v, "raw", after).succeeded()).isTrue();
    byte[] delta = t().get(v, "vhd", "&base=" + base.toWireString());
    // Keep one sector of the block present (the one holding the change's first 512 bytes): the
    // rest of the block must stay as the target has it.
    int bat = 512 + 1024;
    long sector = u32(delta, bat); // block 0
    int bitmap = (int) (sector * 512);
    Arrays.fill(delta, bitmap, bitmap + 512, (byte) 0);
    int present = (MIB + 8192) / 512;
    delta[bitmap + present / 8] = (byte) (0x80 >>> (present % 8));
    VDI target = base.createClone(c, Map.of());
    Transfers.Upload u = t().put(target, "vhd", delta);
    assertThat(u.succeeded()).as(u.error()).isTrue();
    byte[] expected = before.clone();
    System.arraycopy(after, MIB + 8192, expected, MIB + 8192, 512);
    assertThat(t().get(target, "raw", "")).isEqualTo(expected);
  }

  @Test
  void withCbtADeltaMarksOnlyTheChangedGranulesOfABlock() throws Exception {
    VDI v = newVdi("cbt-granules", SIZE);
    v.enableCbt(c);
    byte[] before = new byte[SIZE];
    new Random(40).nextBytes(before);
    assertThat(t().put(v, "raw", before).succeeded()).isTrue();
    VDI base = v.snapshot(c, Map.of());
    // A qcow2 upload writes only the clusters it holds (64 KiB each), so CBT sees two granules.
    Path q = tmp.resolve("two-clusters.qcow2");
    run("/usr/bin/qemu-img", "create", "-q", "-f", "qcow2", q.toString(), Integer.toString(SIZE));
    int g1 = 5 * MIB; // granule 16 of block 2
    int g2 = 9 * MIB + 3 * 65536; // granule 19 of block 4
    for (int at : new int[] {g1, g2}) {
      run(
          "/usr/bin/qemu-io",
          "-f",
          "qcow2",
          "-c",
          "write -P 0x5a " + (at + 4096) + " 4k",
          q.toString());
    }
    assertThat(t().put(v, "qcow2", Files.readAllBytes(q)).succeeded()).isTrue();
    byte[] after = before.clone();
    for (int at : new int[] {g1, g2}) {
      Arrays.fill(after, at, at + 65536, (byte) 0);
      Arrays.fill(after, at + 4096, at + 8192, (byte) 0x5a);
    }
    assertThat(t().get(v, "raw", "")).isEqualTo(after);
    VDI snap = v.snapshot(c, Map.of());

    byte[] delta = t().get(snap, "vhd", "&base=" + base.toWireString());
    assertThat(u32(footer(delta), 60)).as("differencing").isEqualTo(4);
    // Two 2 MiB blocks still take their room (a VHD block is whole in the file), but each one's
    // bitmap marks only its changed 64 KiB granule and only that granule holds data.
    assertThat(delta.length).isEqualTo(512 + 1024 + 512 + 3 * 512 + 2L * (512 + 2 * MIB) + 512);
    int bat = 512 + 1024;
    for (int at : new int[] {g1, g2}) {
      int block = at / (2 * MIB);
      int sector = (int) u32(delta, bat + 4 * block);
      int bitmapAt = sector * 512;
      int inBlock = at % (2 * MIB);
      byte[] bitmap = Arrays.copyOfRange(delta, bitmapAt, bitmapAt + 512);
      byte[] want = new byte[512];
      Arrays.fill(want, inBlock / 512 / 8, (inBlock + 65536) / 512 / 8, (byte) 0xff);
      assertThat(bitmap).as("bitmap of block %d", block).isEqualTo(want);
      int data = bitmapAt + 512;
      assertThat(Arrays.copyOfRange(delta, data + inBlock, data + inBlock + 65536))
          .isEqualTo(Arrays.copyOfRange(after, at, at + 65536));
      byte[] rest = new byte[2 * MIB - 65536];
      System.arraycopy(delta, data, rest, 0, inBlock);
      System.arraycopy(delta, data + inBlock + 65536, rest, inBlock, 2 * MIB - inBlock - 65536);
      assertThat(rest).as("block %d outside its granule", block).isEqualTo(new byte[rest.length]);
    }
    // Applied onto a clone of the base (only present sectors are written), it gives the VDI.
    VDI target = base.createClone(c, Map.of());
    Transfers.Upload u = t().put(target, "vhd", delta);
    assertThat(u.succeeded()).as(u.error()).isTrue();
    assertThat(t().get(target, "raw", "")).isEqualTo(after);
  }
}
