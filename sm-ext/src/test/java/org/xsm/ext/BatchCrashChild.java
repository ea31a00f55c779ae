package org.xsm.ext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.xsm.api.SnapshotKind;
import org.xsm.api.SnapshotRequest;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;

/**
 * The process {@link ExtBatchCrashIT} kills: attaches the SR, activates the first two of the given
 * VDIs writable (as a running VM's disks; the others stay detached), then snapshots them all in one
 * batch; at the named crash point it prints {@code AT <point>} and waits to be killed with SIGKILL.
 *
 * <p>Arguments: SR path, SR UUID, crash point, VDI locations...
 */
public final class BatchCrashChild {
  private BatchCrashChild() {}

  public static void main(String[] args) throws Exception {
    ForkedCrash.stopAt(args[2]);
    Sr sr = new ExtDriver().attach(new SrConfig(args[1], Map.of("path", args[0])));
    List<SnapshotRequest> req = new ArrayList<>();
    for (int i = 3; i < args.length; i++) {
      if (i < 5) {
        sr.attachVdi(args[i], true);
        sr.activateVdi(args[i]);
      }
      req.add(new SnapshotRequest(args[i], SnapshotKind.DOUBLE, null));
    }
    sr.snapshotAll(req);
    ForkedCrash.finished();
  }
}
