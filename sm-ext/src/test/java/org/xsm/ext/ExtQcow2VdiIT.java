package org.xsm.ext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.filesr.FileSr;
import org.xsm.plugins.vhd.InteropSupport;

/**
 * qcow2 VDIs through the EXT driver, checked by qemu: a 3 TiB disk (qcow2 by its size) snapshotted,
 * written past 2 TiB and coalesced by the garbage collector; VHD's 2 TiB limit on resize.
 */
@Timeout(300)
class ExtQcow2VdiIT {
  private static final long TIB = 1L << 40;

  @TempDir Path dir;

  private Sr newSr() throws Exception {
    SrConfig cfg =
        new SrConfig(
            UUID.randomUUID().toString(), Map.of("path", dir.toString()), Map.of("gc", "false"));
    ExtDriver d = new ExtDriver();
    d.create(cfg, 0);
    return d.attach(cfg);
  }

  private static void write(Sr sr, String loc, long off, byte value, int len) throws Exception {
    sr.attachVdi(loc, true);
    VdiDevice d = sr.activateVdi(loc);
    byte[] b = new byte[len];
    Arrays.fill(b, value);
    d.write(ByteBuffer.wrap(b), off);
    d.flush();
    sr.detachVdi(loc);
  }

  private static byte[] read(Sr sr, String loc, long off, int len) throws Exception {
    sr.attachVdi(loc, false);
    try {
      VdiDevice d = sr.activateVdi(loc);
      ByteBuffer b = ByteBuffer.allocate(len);
      d.read(b, off);
      return b.array();
    } finally {
      sr.detachVdi(loc);
    }
  }

  private void qemuCheck(String loc) throws Exception {
    InteropSupport.Result r =
        InteropSupport.run(dir, "qemu-img", "check", "-f", "qcow2", loc + ".qcow2");
    assertThat(r.exit()).as(r.describe()).isZero();
  }

  @Test
  void aThreeTebibyteVdiIsQcow2AndIsSnapshottedWrittenPastTwoTebibytesAndCoalesced()
      throws Exception {
    InteropSupport.requireTool("qemu-img", "qemu-utils");
    Sr sr = newSr();
    VdiInfo v = sr.createVdi(3 * TIB, VdiMetadata.named("big"));
    String loc = v.location();
    assertThat(v.smConfig()).containsEntry("image-format", "qcow2");
    assertThat(v.virtualSizeBytes()).isEqualTo(3 * TIB);
    write(sr, loc, 2 * TIB + 4096, (byte) 1, 1 << 20);
    VdiInfo s1 = sr.snapshot(loc, SnapshotKind.DOUBLE, null);
    write(sr, loc, 2 * TIB + 65536, (byte) 2, 300_000);
    VdiInfo s2 = sr.snapshot(loc, SnapshotKind.DOUBLE, null);
    write(sr, loc, 3 * TIB - 512, (byte) 3, 512);
    assertThat(depth(loc)).isEqualTo(3);
    String chain =
        InteropSupport.runOk(dir, "qemu-img", "info", "--backing-chain", loc + ".qcow2").out();
    assertThat(chain).contains("virtual size: 3 TiB").contains("backing file: ");
    qemuCheck(loc);
    assertThat(read(sr, s1.location(), 2 * TIB + 65536, 16)).containsOnly(1);
    // Deleting the first snapshot leaves its base copy with one (hidden) child: the collector
    // coalesces that child into it (qcow2 commit) and re-links the leaf and the second snapshot.
    sr.deleteVdi(s1.location());
    ((FileSr) sr).collectGarbage();
    assertThat(depth(loc)).isEqualTo(2);
    qemuCheck(loc);
    assertThat(read(sr, loc, 2 * TIB + 4096, 16)).containsOnly(1);
    assertThat(read(sr, loc, 2 * TIB + 65536, 300_000)).containsOnly(2);
    assertThat(read(sr, loc, 3 * TIB - 512, 512)).containsOnly(3);
    assertThat(read(sr, s2.location(), 3 * TIB - 512, 512)).containsOnly(0);
    assertThat(read(sr, s2.location(), 2 * TIB + 65536, 16)).containsOnly(2);
    InteropSupport.runOk(
        dir,
        "qemu-io",
        "-r",
        "-f",
        "qcow2",
        "-c",
        "read -P 2 " + (2 * TIB + 65536) + " 300000",
        "-c",
        "read -P 1 " + (2 * TIB + 4096) + " 61440",
        "-c",
        "read -P 3 " + (3 * TIB - 512) + " 512",
        loc + ".qcow2");
  }

  private int depth(String loc) throws Exception {
    String chain =
        InteropSupport.runOk(
                dir, "qemu-img", "info", "--backing-chain", "--output=json", loc + ".qcow2")
            .out();
    return (int) java.util.regex.Pattern.compile("\"filename\"").matcher(chain).results().count();
  }

  @Test
  void aVhdVdiCannotGrowPastTwoTebibytesAndSaysWhy() throws Exception {
    Sr sr = newSr();
    VdiInfo v = sr.createVdi(1 << 30, VdiMetadata.named("small"));
    assertThat(v.smConfig()).containsEntry("image-format", "vhd");
    assertThatThrownBy(() -> sr.resize(v.location(), 3 * TIB))
        .isInstanceOfSatisfying(
            SmException.class, e -> assertThat(e.error()).isEqualTo(SmError.VDI_SIZE))
        .hasMessageContaining("cannot exceed")
        .hasMessageContaining("need a qcow2 VDI (sm_config image-format=qcow2)");
    VdiInfo q = sr.createVdi(1 << 30, VdiMetadata.named("q"), Map.of("image-format", "qcow2"));
    assertThat(sr.resize(q.location(), 3 * TIB).virtualSizeBytes()).isEqualTo(3 * TIB);
    assertThatThrownBy(
            () -> sr.createVdi(1 << 30, VdiMetadata.named("x"), Map.of("image-format", "vmdk")))
        .hasMessageContaining("unknown image format 'vmdk'");
  }

  @Test
  void anSrPreferringQcow2MakesQcow2FilesUnlessAskedOtherwise() throws Exception {
    SrConfig cfg =
        new SrConfig(
            UUID.randomUUID().toString(),
            Map.of("path", dir.toString(), FileSr.PREFERRED_FORMATS_KEY, "qcow2,vhd"),
            Map.of("gc", "false"));
    ExtDriver d = new ExtDriver();
    d.create(cfg, 0);
    Sr sr = d.attach(cfg);
    String q = sr.createVdi(1 << 20, VdiMetadata.named("q")).location();
    String v =
        sr.createVdi(1 << 20, VdiMetadata.named("v"), Map.of("image-format", "vhd")).location();
    assertThat(dir.resolve(q + ".qcow2")).exists();
    assertThat(dir.resolve(v + ".vhd")).exists();
    String snap = sr.snapshot(q, SnapshotKind.DOUBLE, null).location();
    assertThat(dir.resolve(snap + ".qcow2")).exists();
  }
}
