package org.xsm.iscsi.array.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.iscsi.array.pool.LunInfo;

/** The array against real initiators: libiscsi's tools, qemu-img and qemu-io. */
class ArrayPeersIT {
  @TempDir Path dir;
  private RunningArray array;

  @AfterEach
  void stop() throws Exception {
    if (array != null) {
      array.close();
    }
  }

  @Test
  void iscsiLsDiscoversTheTargetAndEveryLun() throws Exception {
    array = RunningArray.start(dir.resolve("pool"), null, null);
    array.create("a", 64L << 20);
    array.create("b", 32L << 20);
    String out = Tools.run(60, "iscsi-ls", "-s", "iscsi://" + array.portal()).ok().output();
    assertThat(out).contains("Target:" + RunningArray.IQN + " Portal:" + array.portal() + ",1");
    assertThat(out).containsPattern("Lun:0\\s+Type:DIRECT_ACCESS \\(Size:6[34]M\\)");
    assertThat(out).containsPattern("Lun:1\\s+Type:DIRECT_ACCESS \\(Size:3[12]M\\)");
  }

  @Test
  void iscsiInqShowsTheLunIdAsSerialAndStableDesignators() throws Exception {
    array = RunningArray.start(dir.resolve("pool"), null, null);
    LunInfo lun = array.create("a", 8L << 20);
    String serial = Tools.run(60, "iscsi-inq", "-e", "1", "-c", "128", array.url(0)).ok().output();
    assertThat(serial).contains("Unit Serial Number:[" + lun.id() + "]");
    String ids = Tools.run(60, "iscsi-inq", "-e", "1", "-c", "131", array.url(0)).ok().output();
    assertThat(ids).contains("Designator Type:(3) NAA").contains("XSM     " + lun.id());
    String std = Tools.run(60, "iscsi-inq", array.url(0)).ok().output();
    assertThat(std).contains("Vendor:XSM").contains("Peripheral Device Type:DIRECT_ACCESS");
    // The same designators after a restart of the array.
    array.close();
    array = RunningArray.start(dir.resolve("pool"), null, null);
    assertThat(Tools.run(60, "iscsi-inq", "-e", "1", "-c", "131", array.url(0)).ok().output())
        .isEqualTo(ids);
  }

  @Test
  void qemuImgConvertsAndComparesAnImage() throws Exception {
    array = RunningArray.start(dir.resolve("pool"), null, null);
    array.create("disk", 16L << 20);
    Path image = dir.resolve("image.raw");
    byte[] data = new byte[16 << 20];
    Random r = new Random(1);
    for (int i = 0; i < data.length; i += 1 << 20) {
      byte[] chunk = new byte[256 << 10]; // a quarter of each MiB is data, the rest zeros
      r.nextBytes(chunk);
      System.arraycopy(chunk, 0, data, i, chunk.length);
    }
    Files.write(image, data);
    String info = Tools.run(60, "qemu-img", "info", array.url(0)).ok().output();
    assertThat(info).contains("virtual size: 16 MiB (16777216 bytes)");
    Tools.run(
            120,
            "qemu-img",
            "convert",
            "-n",
            "-f",
            "raw",
            "-O",
            "raw",
            image.toString(),
            array.url(0))
        .ok();
    assertThat(
            Tools.run(
                    120,
                    "qemu-img",
                    "compare",
                    "-f",
                    "raw",
                    "-F",
                    "raw",
                    image.toString(),
                    array.url(0))
                .ok()
                .output())
        .contains("Images are identical");
    assertThat(array.pool.stats().physicalUsedBytes()).isEqualTo(4L << 20); // zeros take no space
    Path back = dir.resolve("back.raw");
    Tools.run(120, "qemu-img", "convert", "-f", "raw", "-O", "raw", array.url(0), back.toString())
        .ok();
    assertThat(Files.readAllBytes(back)).isEqualTo(data);
  }

  @Test
  void qemuIoWritesAndReadsPatternsAndSnapshotsAreReadOnly() throws Exception {
    array = RunningArray.start(dir.resolve("pool"), null, null);
    LunInfo disk = array.create("disk", 8L << 20);
    Tools.run(
            60, "qemu-io", "-f", "raw", "-c", "write -P 0x5a 1M 256k", "-c", "flush", array.url(0))
        .ok();
    LunInfo snap = array.pool.luns().snapshot(disk.id(), "snap", Map.of());
    Tools.run(60, "qemu-io", "-f", "raw", "-c", "write -P 0xa5 1M 64k", array.url(0)).ok();
    assertThat(Tools.readsPattern(array.url(snap.lun()), 0x5a, 1 << 20, "256k")).isTrue();
    String diskRead =
        Tools.run(
                60,
                "qemu-io",
                "-f",
                "raw",
                "-c",
                "read -P 0xa5 1M 64k",
                "-c",
                "read -P 0x5a 1088k 192k",
                array.url(0))
            .ok()
            .output();
    assertThat(diskRead).doesNotContain("Pattern verification failed");
    Tools.Result write =
        Tools.run(60, "qemu-io", "-f", "raw", "-c", "write -P 1 0 4k", array.url(snap.lun()));
    // qemu reads the WP bit of MODE SENSE and refuses to open the LUN for writing.
    assertThat(write.exit()).isNotZero();
    assertThat(write.output()).contains("LUN is write protected");
  }

  @Test
  void chapIsRequiredWhenConfigured() throws Exception {
    array = RunningArray.start(dir.resolve("pool"), "alice", "twelve-chars-secret");
    array.create("a", 8L << 20);
    String good =
        "iscsi://alice%twelve-chars-secret@" + array.portal() + "/" + RunningArray.IQN + "/0";
    String bad = "iscsi://alice%wrong-secret-xx@" + array.portal() + "/" + RunningArray.IQN + "/0";
    assertThat(Tools.run(60, "iscsi-inq", good).ok().output()).contains("Vendor:XSM");
    assertThat(Tools.run(60, "iscsi-inq", bad).exit()).isNotZero();
    assertThat(Tools.run(60, "iscsi-inq", array.url(0)).exit()).isNotZero();
    Tools.run(60, "qemu-io", "-f", "raw", "-c", "write -P 7 0 4k", "-c", "read -P 7 0 4k", good)
        .ok();
  }
}
