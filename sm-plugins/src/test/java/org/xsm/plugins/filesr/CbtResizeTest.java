package org.xsm.plugins.filesr;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.ChangedBlocks;
import org.xsm.api.SnapshotKind;
import org.xsm.api.VdiDevice;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.store.LocalImageStore;

/**
 * CBT across a resize (found by the soak): a disk grown from 2 to 3 MiB, then written past its old
 * end between two snapshots; list_changed_blocks must name those blocks. Before the fix the log
 * kept the old size, and every change past it was lost.
 */
class CbtResizeTest {
  private static final int MIB = 1 << 20;

  @TempDir Path dir;

  @Test
  void changesPastTheOldEndOfAGrownDiskAreListed() throws Exception {
    FileSr sr =
        new FileSr(
            LocalImageStore.open(dir), TestDriverInfo.INFO, UUID.randomUUID().toString(), () -> {});
    String disk = sr.createVdi(2L * MIB, VdiMetadata.named("grown")).location();
    sr.enableCbt(disk);
    long grown = sr.resize(disk, 3L * MIB).virtualSizeBytes(); // at least 3 MiB
    String a = sr.snapshot(disk, SnapshotKind.DOUBLE, null).location();
    sr.attachVdi(disk, true);
    VdiDevice d = sr.activateVdi(disk);
    byte[] block = new byte[64 * 1024];
    Arrays.fill(block, (byte) 9);
    d.write(ByteBuffer.wrap(block), 2L * MIB + 64 * 1024); // block 33
    d.write(ByteBuffer.wrap(block), 64 * 1024); // block 1
    d.flush();
    sr.detachVdi(disk);
    String b = sr.snapshot(disk, SnapshotKind.DOUBLE, null).location();

    ChangedBlocks changed = sr.listChangedBlocks(a, b);

    assertThat(grown).isGreaterThanOrEqualTo(3L * MIB);
    assertThat(changed.virtualSizeBytes()).isEqualTo(grown);
    assertThat(changed.changed().stream().boxed().toList()).containsExactly(1, 33);
    sr.detach();
  }
}
