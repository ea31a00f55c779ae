package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Task;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP import and export of raw, VHD and qcow2 disks, as xapi (and XCP-ng for qcow2) offers them,
 * checked with qemu-img as the oracle for the images, and with bad uploads that must leave the VDI
 * byte-identical.
 */
@QuarkusTest
class TransferTest extends SdkTest {
  private static final int MIB = 1024 * 1024;
  private static final int SIZE = 16 * MIB;

  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();

  private VDI vdi(String name) throws Exception {
    return newVdi(name, SIZE);
  }

  private URI uri(String path, VDI vdi, String more) throws Exception {
    return URI.create(
        "http://127.0.0.1:"
            + url.getPort()
            + path
            + "?session_id="
            + c.getSessionReference()
            + "&vdi="
            + vdi.toWireString()
            + more);
  }

  private Transfers.Upload put(VDI vdi, String format, byte[] body) throws Exception {
    return new Transfers(c, url).put(vdi, format, body);
  }

  private byte[] get(VDI vdi, String format, String more) throws Exception {
    HttpResponse<byte[]> r =
        http.send(
            HttpRequest.newBuilder(uri("/export_raw_vdi", vdi, "&format=" + format + more))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    return r.body();
  }

  /** Data at 1-3 MiB and 10 MiB + 4 KiB, zeros elsewhere: blocks 0, 1 and 5 of 2 MiB. */
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

  private static long vhdLength(int blocks) {
    return 512 + 1024 + 512 + (long) blocks * (512 + 2 * MIB) + 512; // 8 BAT entries: 1 sector
  }

  @Test
  void rawImportThenRawAndVhdExportsMatchAndKeepHoles() throws Exception {
    VDI v = vdi("raw-import");
    byte[] img = image(1);
    Transfers.Upload r = put(v, "raw", img);
    assertThat(r.succeeded()).as(r.error()).isTrue();
    assertThat(get(v, "raw", "")).isEqualTo(img);
    byte[] vhd = get(v, "vhd", "");
    assertThat(vhd.length)
        .as("only the 3 blocks with data, holes stay holes")
        .isEqualTo(vhdLength(3));
    Path f = tmp.resolve("export.vhd");
    Path raw = tmp.resolve("image.raw");
    Files.write(f, vhd);
    Files.write(raw, img);
    assertThat(run("/usr/bin/qemu-img", "info", "-f", "vpc", f.toString()))
        .contains("virtual size: 16 MiB");
    run("/usr/bin/qemu-img", "compare", "-f", "vpc", "-F", "raw", f.toString(), raw.toString());
    String map = run("/usr/bin/qemu-img", "map", "--output=json", "-f", "vpc", f.toString());
    long mapped = 0;
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\"length\": (\\d+), [^}]*\"data\": true").matcher(map);
    while (m.find()) {
      mapped += Long.parseLong(m.group(1));
    }
    assertThat(mapped).as("bytes with data per qemu-img map\n" + map).isEqualTo(3L * 2 * MIB);
  }

  @Test
  void vhdImportMadeByQemuImg() throws Exception {
    byte[] img = image(2);
    Path raw = tmp.resolve("src.raw");
    Path vhd = tmp.resolve("src.vhd");
    Files.write(raw, img);
    run(
        "/usr/bin/qemu-img",
        "convert",
        "-f",
        "raw",
        "-O",
        "vpc",
        "-o",
        "subformat=dynamic,force_size=on",
        raw.toString(),
        vhd.toString());
    VDI v = vdi("vhd-import");
    Transfers.Upload r = put(v, "vhd", Files.readAllBytes(vhd));
    assertThat(r.succeeded()).as(r.error()).isTrue();
    assertThat(get(v, "raw", "")).isEqualTo(img);
  }

  @Test
  void incrementalExportAgainstABaseSnapshotHoldsOnlyTheDifferences() throws Exception {
    VDI v = vdi("incremental");
    byte[] before = image(3);
    assertThat(put(v, "raw", before).succeeded()).isTrue();
    VDI base = v.snapshot(c, Map.of());
    byte[] after = before.clone();
    after[5 * MIB] ^= 1; // block 2
    after[12 * MIB + 77] = 9; // block 6
    assertThat(put(v, "raw", after).succeeded()).isTrue();
    byte[] delta = get(v, "vhd", "&base=" + base.toWireString());
    assertThat(delta.length)
        .as("two differing blocks, and the parent locators of a differencing VHD")
        .isEqualTo(vhdLength(2) + 3 * 512);
    // Restore as a backup tool does: a copy of the base, the delta applied over it.
    VDI restored = base.createClone(c, Map.of());
    Transfers.Upload r = put(restored, "vhd", delta);
    assertThat(r.succeeded()).as(r.error()).isTrue();
    assertThat(get(restored, "raw", "")).isEqualTo(after);
    Path f = tmp.resolve("delta.vhd");
    Files.write(f, delta);
    assertThat(run("/usr/bin/qemu-img", "info", "-f", "vpc", f.toString()))
        .contains("virtual size: 16 MiB");
  }

  @Test
  void badUploadsFailClearlyAndLeaveTheVdiAsItWas() throws Exception {
    VDI v = vdi("bad-input");
    byte[] img = image(4);
    assertThat(put(v, "raw", img).succeeded()).isTrue();
    byte[] other = image(5);

    Transfers.Upload wrongSize = put(v, "raw", java.util.Arrays.copyOf(other, SIZE - 512));
    assertThat(wrongSize.succeeded()).isFalse();
    assertThat(wrongSize.error()).contains("truncated upload: got " + (SIZE - 512));
    assertThat(get(v, "raw", "")).isEqualTo(img);

    Transfers.Upload notVhd = put(v, "vhd", other);
    assertThat(notVhd.succeeded()).isFalse();
    assertThat(notVhd.error()).contains("not a valid VHD");
    assertThat(get(v, "raw", "")).isEqualTo(img);

    Transfers.Upload badFormat = put(v, "vmdk", other);
    assertThat(badFormat.succeeded()).isFalse();
    assertThat(badFormat.error()).contains("format must be raw, vhd or qcow2");

    Path raw = tmp.resolve("big.raw");
    Path vhd = tmp.resolve("big.vhd");
    Files.write(raw, java.util.Arrays.copyOf(other, 2 * SIZE));
    run(
        "/usr/bin/qemu-img",
        "convert",
        "-f",
        "raw",
        "-O",
        "vpc",
        "-o",
        "force_size=on",
        raw.toString(),
        vhd.toString());
    Transfers.Upload bigVhd = put(v, "vhd", Files.readAllBytes(vhd));
    assertThat(bigVhd.succeeded()).isFalse();
    assertThat(bigVhd.error()).contains("wrong size");
    byte[] truncatedVhd = Files.readAllBytes(vhd);
    Transfers.Upload cut =
        put(v, "vhd", java.util.Arrays.copyOf(truncatedVhd, truncatedVhd.length - 700));
    assertThat(cut.succeeded()).isFalse();
    assertThat(get(v, "raw", "")).isEqualTo(img);

    // Chunked, without a length: the server counts, and a short body is a truncated upload.
    Transfers.Upload chunked =
        new Transfers(c, url)
            .put(
                v,
                "raw",
                HttpRequest.BodyPublishers.ofInputStream(
                    () -> new ByteArrayInputStream(other, 0, SIZE - MIB)));
    assertThat(chunked.succeeded()).isFalse();
    assertThat(chunked.error()).contains("truncated upload: got " + (SIZE - MIB));
    assertThat(get(v, "raw", "")).isEqualTo(img);

    // The client goes away mid-upload: its task fails, the VDI is untouched.
    Task task = Task.create(c, "import", "");
    try (Socket s = new Socket("127.0.0.1", url.getPort())) {
      OutputStream out = s.getOutputStream();
      String path =
          uri("/import_raw_vdi", v, "&format=raw&task_id=" + task.toWireString()).getRawPath();
      String query =
          uri("/import_raw_vdi", v, "&format=raw&task_id=" + task.toWireString()).getRawQuery();
      out.write(
          ("PUT "
                  + path
                  + "?"
                  + query
                  + " HTTP/1.1\r\nHost: x\r\nContent-Length: "
                  + SIZE
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(other, 0, 3 * MIB);
      out.flush();
    }
    new Transfers(c, url).settle(task);
    assertThat(task.getStatus(c)).isEqualTo(Types.TaskStatusType.FAILURE);
    assertThat(task.getErrorInfo(c)).contains("VDI_IO_ERROR");
    assertThat(get(v, "raw", "")).isEqualTo(img);

    HttpResponse<String> noSession =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + url.getPort()
                            + "/export_raw_vdi?session_id=x&vdi="
                            + v.toWireString()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(noSession.statusCode()).isEqualTo(401);
  }

  @Test
  void aClientTaskShowsTheImportFinishedAndUploadsMayExceedTheRpcBodyLimit() throws Exception {
    VDI v = newVdi("task", 4 * SIZE); // 64 MiB: more than the 16 MiB limit of RPC bodies
    Task task = Task.create(c, "import", "");
    byte[] first = image(6);
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    uri("/import_raw_vdi", v, "&format=raw&task_id=" + task.toWireString()))
                .PUT(
                    HttpRequest.BodyPublishers.ofInputStream(
                        () ->
                            new java.io.SequenceInputStream(
                                new ByteArrayInputStream(first),
                                new ByteArrayInputStream(new byte[3 * SIZE]))))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    new Transfers(c, url).settle(task);
    byte[] back = get(v, "raw", "");
    assertThat(back).hasSize(4 * SIZE);
    assertThat(java.util.Arrays.copyOf(back, SIZE)).isEqualTo(first);
    assertThat(java.util.Arrays.copyOfRange(back, SIZE, 4 * SIZE)).containsOnly(0);
    assertThat(task.getStatus(c)).isEqualTo(Types.TaskStatusType.SUCCESS);
    assertThat(task.getProgress(c)).isEqualTo(1.0);
    List<String> none = task.getErrorInfo(c).stream().toList();
    assertThat(none).isEmpty();
  }

  // ---- format=qcow2 ----

  @Test
  void qcow2ExportIsCheckedAndComparedByQemuAndKeepsHoles() throws Exception {
    VDI v = vdi("qcow2-export");
    byte[] img = image(7);
    assertThat(put(v, "raw", img).succeeded()).isTrue();
    Path f = tmp.resolve("export.qcow2");
    Path raw = tmp.resolve("image7.raw");
    Files.write(f, get(v, "qcow2", ""));
    Files.write(raw, img);
    assertThat(run("/usr/bin/qemu-img", "check", "-f", "qcow2", f.toString()))
        .contains("No errors were found");
    assertThat(run("/usr/bin/qemu-img", "info", "-f", "qcow2", f.toString()))
        .contains("virtual size: 16 MiB");
    run("/usr/bin/qemu-img", "compare", "-f", "qcow2", "-F", "raw", f.toString(), raw.toString());
    String map = run("/usr/bin/qemu-img", "map", "--output=json", "-f", "qcow2", f.toString());
    long mapped = 0;
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\"length\": (\\d+), [^}]*\"data\": true").matcher(map);
    while (m.find()) {
      mapped += Long.parseLong(m.group(1));
    }
    assertThat(mapped).as("only the 64 KiB clusters with data\n" + map).isEqualTo(2L * MIB + 65536);
  }

  @Test
  void qcow2ImportMadeByQemuImgAndAQcow2VdiMadeWithSmConfig() throws Exception {
    byte[] img = image(8);
    Path raw = tmp.resolve("src8.raw");
    Path q = tmp.resolve("src8.qcow2");
    Files.write(raw, img);
    run("/usr/bin/qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), q.toString());
    VDI.Record rec = new VDI.Record();
    rec.nameLabel = "qcow2-vdi";
    rec.nameDescription = "";
    rec.SR = defaultSr();
    rec.virtualSize = (long) SIZE;
    rec.type = Types.VdiType.USER;
    rec.sharable = false;
    rec.readOnly = false;
    rec.otherConfig = Map.of();
    rec.xenstoreData = Map.of();
    rec.smConfig = Map.of("image-format", "qcow2");
    rec.tags = java.util.Set.of();
    VDI v = VDI.create(c, rec);
    assertThat(v.getSmConfig(c)).containsEntry("image-format", "qcow2");
    Transfers.Upload r = put(v, "qcow2", Files.readAllBytes(q));
    assertThat(r.succeeded()).as(r.error()).isTrue();
    assertThat(get(v, "raw", "")).isEqualTo(img);
  }

  @Test
  void incrementalQcow2ExportIsAnImageOverItsBase() throws Exception {
    VDI v = vdi("qcow2-incremental");
    byte[] before = image(9);
    assertThat(put(v, "raw", before).succeeded()).isTrue();
    VDI base = v.snapshot(c, Map.of());
    byte[] after = before.clone();
    after[5 * MIB] ^= 1;
    java.util.Arrays.fill(after, MIB, MIB + 65536, (byte) 0); // zeros over the base's data
    assertThat(put(v, "raw", after).succeeded()).isTrue();
    byte[] delta = get(v, "qcow2", "&base=" + base.toWireString());
    String baseFile = base.getUuid(c) + ".qcow2";
    Path d = tmp.resolve("delta.qcow2");
    Files.write(d, delta);
    Path before9 = tmp.resolve("before9.raw");
    Files.write(before9, before);
    run(
        "/usr/bin/qemu-img",
        "convert",
        "-f",
        "raw",
        "-O",
        "qcow2",
        before9.toString(),
        tmp.resolve(baseFile).toString());
    assertThat(run("/usr/bin/qemu-img", "info", "--backing-chain", d.toString()))
        .contains("backing file: " + baseFile);
    Path after9 = tmp.resolve("after9.raw");
    Files.write(after9, after);
    run(
        "/usr/bin/qemu-img",
        "compare",
        "-f",
        "qcow2",
        "-F",
        "raw",
        d.toString(),
        after9.toString());
    VDI restored = base.createClone(c, Map.of());
    Transfers.Upload r = put(restored, "qcow2", delta);
    assertThat(r.succeeded()).as(r.error()).isTrue();
    assertThat(get(restored, "raw", "")).isEqualTo(after);
  }

  @Test
  void badQcow2UploadsFailClearlyAndLeaveTheVdiAsItWas() throws Exception {
    VDI v = vdi("qcow2-bad");
    byte[] img = image(10);
    assertThat(put(v, "raw", img).succeeded()).isTrue();
    Path raw = tmp.resolve("other.raw");
    Path q = tmp.resolve("other.qcow2");
    Files.write(raw, image(11));
    run("/usr/bin/qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), q.toString());
    byte[] good = Files.readAllBytes(q);
    Transfers.Upload truncated = put(v, "qcow2", java.util.Arrays.copyOf(good, good.length / 2));
    assertThat(truncated.succeeded()).isFalse();
    assertThat(truncated.error()).contains("not a valid qcow2");
    run("/usr/bin/qemu-img", "resize", "-f", "qcow2", q.toString(), "32M");
    Transfers.Upload wrongSize = put(v, "qcow2", Files.readAllBytes(q));
    assertThat(wrongSize.succeeded()).isFalse();
    assertThat(wrongSize.error()).contains("wrong size");
    Transfers.Upload notQcow2 = put(v, "qcow2", img);
    assertThat(notQcow2.succeeded()).isFalse();
    assertThat(notQcow2.error()).contains("bad magic");
    assertThat(get(v, "raw", "")).isEqualTo(img);
  }
}
