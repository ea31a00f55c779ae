package org.xsm.ext;

import java.util.Map;
import org.xsm.api.SrConfig;
import org.xsm.plugins.filesr.FileSr;

/**
 * The process {@link GcCrashIT} kills: attaches the SR and runs the garbage collector; at the named
 * crash point (its first occurrence) it prints {@code AT <point>} and waits for SIGKILL.
 *
 * <p>Arguments: SR path, SR UUID, crash point.
 */
public final class GcCrashChild {
  private GcCrashChild() {}

  public static void main(String[] args) throws Exception {
    String target = args[2];
    ForkedCrash.stopAt(target);
    FileSr sr =
        (FileSr)
            new ExtDriver()
                .attach(new SrConfig(args[1], Map.of("path", args[0]), Map.of("gc", "false")));
    sr.collectGarbage();
    ForkedCrash.finished();
  }
}
