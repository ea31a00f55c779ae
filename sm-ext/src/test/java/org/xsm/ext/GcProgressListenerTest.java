package org.xsm.ext;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.filesr.FileSr;

/**
 * The collector's progress as operators see it: a coalesce reports rising fractions to the SR's
 * listener and then its end; a listener that throws does not disturb the collection.
 */
class GcProgressListenerTest {
  private static final int MIB = 1024 * 1024;

  @TempDir Path dir;

  private Sr newSr() throws Exception {
    SrConfig cfg =
        new SrConfig(
            UUID.randomUUID().toString(),
            Map.of("path", dir.toString()),
            Map.of("gc", "false")); // the test runs the collector itself
    ExtDriver d = new ExtDriver();
    d.create(cfg, 0);
    return d.attach(cfg);
  }

  private static void fill(Sr sr, String loc, int fromMib, int mib) throws Exception {
    sr.attachVdi(loc, true);
    VdiDevice d = sr.activateVdi(loc);
    byte[] b = new byte[MIB];
    for (int i = 0; i < mib; i++) {
      java.util.Arrays.fill(b, (byte) (i + 1));
      d.write(ByteBuffer.wrap(b), (long) (fromMib + i) * MIB);
    }
    d.flush();
    sr.detachVdi(loc);
  }

  /** A base copy with data whose only child is another hidden node: one coalesce to do. */
  private static void chainToCoalesce(Sr sr) throws Exception {
    String leaf = sr.createVdi(64 * MIB, VdiMetadata.named("disk")).location();
    fill(sr, leaf, 0, 4);
    String first = sr.snapshot(leaf, SnapshotKind.DOUBLE, null).location();
    fill(sr, leaf, 8, 24);
    sr.snapshot(leaf, SnapshotKind.DOUBLE, null);
    sr.deleteVdi(first);
  }

  @Test
  void aCoalesceReportsRisingFractionsThenItsEnd() throws Exception {
    Sr sr = newSr();
    assertThat(sr.gcStepProgress()).isNegative();
    List<Double> heard = new CopyOnWriteArrayList<>();
    sr.setGcProgressListener(heard::add);
    chainToCoalesce(sr);

    assertThat(((FileSr) sr).collectGarbage().coalesced()).isGreaterThanOrEqualTo(1);

    assertThat(heard).first().isEqualTo(0.0);
    assertThat(heard).last().isEqualTo(-1.0);
    List<Double> during = heard.subList(0, heard.indexOf(-1.0));
    assertThat(during).isSorted().allMatch(f -> f >= 0 && f <= 1);
    assertThat(during.stream().filter(f -> f > 0 && f < 1).count())
        .as("fractions between 0 and 1: %s", during)
        .isGreaterThanOrEqualTo(2);
    assertThat(sr.gcStepProgress()).isNegative();
    sr.detach();
  }

  @Test
  void aListenerThatThrowsDoesNotStopTheCollection() throws Exception {
    Sr sr = newSr();
    sr.setGcProgressListener(
        f -> {
          throw new IllegalStateException("observer broke");
        });
    chainToCoalesce(sr);
    assertThat(((FileSr) sr).collectGarbage().coalesced()).isGreaterThanOrEqualTo(1);
    sr.detach();
  }
}
