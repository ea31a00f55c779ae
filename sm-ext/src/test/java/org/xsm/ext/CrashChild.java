package org.xsm.ext;

import java.util.Map;
import org.xsm.api.SnapshotKind;
import org.xsm.api.Sr;
import org.xsm.api.SrConfig;

/**
 * The process {@link ExtCrashIT} kills: attaches the SR, then snapshots or clones one VDI; at the
 * named crash point it prints {@code AT <point>} and waits to be killed with SIGKILL.
 *
 * <p>Arguments: SR path, SR UUID, {@code snapshot|clone}, VDI location, crash point.
 */
public final class CrashChild {
  private CrashChild() {}

  public static void main(String[] args) throws Exception {
    String target = args[4];
    ForkedCrash.stopAt(target);
    Sr sr = new ExtDriver().attach(new SrConfig(args[1], Map.of("path", args[0])));
    if (args[2].equals("snapshot")) {
      sr.snapshot(args[3], SnapshotKind.DOUBLE, null);
    } else {
      sr.cloneVdi(args[3], null);
    }
    ForkedCrash.finished();
  }
}
