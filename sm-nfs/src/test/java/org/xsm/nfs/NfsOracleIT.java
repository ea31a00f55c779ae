package org.xsm.nfs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.nfs.testing.GaneshaServer;

/**
 * Independent readers of what the NFS backend wrote: qemu-img (its own NFS client, libnfs) reads
 * the VHDs straight from the export by nfs:// URL, and libnfs's nfs-cat returns the same bytes as
 * the file on the server's disk.
 */
class NfsOracleIT extends GaneshaTest {
  private static final long MIB = 1 << 20;

  private static long qemuVirtualSize(String url) throws Exception {
    String json =
        new String(
            Tools.run(work, "qemu-img", "info", "-f", "vpc", "--output=json", url),
            StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("\"virtual-size\"\\s*:\\s*(\\d+)").matcher(json);
    assertThat(m.find()).as("virtual-size in %s", json).isTrue();
    assertThat(json).contains("\"format\": \"vpc\"");
    return Long.parseLong(m.group(1));
  }

  @Test
  void qemuImgAndNfsCatReadWhatTheBackendWrote() throws Exception {
    Path dir = Files.createTempDirectory(ganesha.exportDir(), "oracle-");
    String rel = dir.getFileName().toString();
    SrConfig config =
        new SrConfig(
            UUID.randomUUID().toString(),
            Map.of("server", "127.0.0.1", "serverpath", GaneshaServer.EXPORT + "/" + rel));
    NfsConformanceTest.DRIVER.create(config, 0);
    Sr sr = NfsConformanceTest.DRIVER.attach(config);
    VdiInfo vdi = sr.createVdi(20 * MIB, VdiMetadata.named("oracle"));
    byte[] model = new byte[(int) vdi.virtualSizeBytes()];
    Random rnd = new Random(7);
    sr.attachVdi(vdi.location(), true);
    VdiDevice d = sr.activateVdi(vdi.location());
    long[] offsets = {0, 3 * MIB + 512, 9 * MIB - 4096, vdi.virtualSizeBytes() - 8192};
    for (long off : offsets) {
      byte[] chunk = new byte[(int) Math.min(MIB + 4096, vdi.virtualSizeBytes() - off)];
      rnd.nextBytes(chunk);
      d.write(ByteBuffer.wrap(chunk), off);
      System.arraycopy(chunk, 0, model, (int) off, chunk.length);
    }
    d.flush();
    sr.deactivateVdi(vdi.location());
    sr.detachVdi(vdi.location());
    String path = rel + "/" + config.srUuid() + "/" + vdi.location() + ".vhd";
    String url = ganesha.url(path);

    assertThat(qemuVirtualSize(url)).isEqualTo(vdi.virtualSizeBytes());

    Path raw = work.resolve("disk.raw");
    Tools.run(work, "qemu-img", "convert", "-f", "vpc", "-O", "raw", url, raw.toString());
    byte[] qemuSees = Files.readAllBytes(raw);
    assertThat(qemuSees.length).isEqualTo(model.length);
    assertThat(Arrays.equals(qemuSees, model)).as("qemu-img reads the data written").isTrue();

    byte[] catted = Tools.run(work, "nfs-cat", url);
    byte[] onDisk = Files.readAllBytes(ganesha.exportDir().resolve(path));
    assertThat(catted).as("nfs-cat of the VHD").isEqualTo(onDisk);
    assertThat(new String(catted, catted.length - 512, 8, StandardCharsets.US_ASCII))
        .as("VHD footer cookie")
        .isEqualTo("conectix");
    sr.detach();
  }
}
