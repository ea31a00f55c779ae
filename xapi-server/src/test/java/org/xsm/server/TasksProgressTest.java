package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xsm.server.model.Ref;
import org.xsm.server.vm.VmSnapshotService;

/**
 * The progress a long operation reports, whatever its speed: VM.copy moves through every disk's
 * share (each disk an equal part, by bytes) and ends at 1, never going back. What a client sees of
 * it through events is the console test's (a task whose progress that test sets).
 */
@QuarkusTest
class TasksProgressTest extends SdkTest {
  private static final long MIB = 1024 * 1024;

  @Inject VmSnapshotService snapshots;

  @Test
  void aCopyReportsEachDiskShareAndEndsAtOne() throws Exception {
    VM vm = newVm("progress-source", 1, 256 * MIB);
    for (String dev : List.of("0", "1")) {
      VDI d = newVdi("progress-disk-" + dev, 8 * MIB);
      byte[] data = new byte[(int) (8 * MIB)];
      java.util.Arrays.fill(data, (byte) 0x5a);
      assertThat(new Transfers(c, url).put(d, "raw", data).succeeded()).isTrue();
      attachDisk(vm, d, dev);
    }
    List<Double> seen = new ArrayList<>();
    Ref<org.xsm.server.model.Vm> copy =
        snapshots.cloneVm(
            Ref.of(vm.toWireString()),
            "progress-copy",
            Ref.of(defaultSr().toWireString()),
            seen::add);
    assertThat(copy.value()).startsWith("OpaqueRef:");
    assertThat(seen).isNotEmpty();
    for (int i = 1; i < seen.size(); i++) {
      assertThat(seen.get(i))
          .as("never back, at %d of %s", i, seen)
          .isGreaterThanOrEqualTo(seen.get(i - 1));
    }
    assertThat(seen.get(seen.size() - 1)).isEqualTo(1.0);
    // Both disks' shares are reported: the first disk done is half of the whole.
    assertThat(seen).anySatisfy(v -> assertThat(v).isGreaterThan(0.0).isLessThanOrEqualTo(0.5));
    assertThat(seen).anySatisfy(v -> assertThat(v).isGreaterThan(0.5).isLessThan(1.0));
  }
}
