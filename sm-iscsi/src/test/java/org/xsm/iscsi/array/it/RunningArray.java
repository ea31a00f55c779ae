package org.xsm.iscsi.array.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import org.xsm.iscsi.array.control.ControlServer;
import org.xsm.iscsi.array.pool.BlockPool;
import org.xsm.iscsi.array.pool.LunInfo;
import org.xsm.iscsi.array.scsi.ScsiCommands;
import org.xsm.iscsi.array.target.IscsiTarget;
import org.xsm.iscsi.array.target.TargetConfig;

/** An array (pool, target, control API) in this JVM on free ports, for tests with real peers. */
final class RunningArray implements AutoCloseable {
  static final String IQN = TargetConfig.DEFAULT_IQN;

  final BlockPool pool;
  final IscsiTarget target;
  final ControlServer control;

  private RunningArray(BlockPool pool, IscsiTarget target, ControlServer control) {
    this.pool = pool;
    this.target = target;
    this.control = control;
  }

  static RunningArray start(Path dir, String chapUser, String chapSecret) throws IOException {
    BlockPool pool = BlockPool.open(dir, 8L << 30);
    TargetConfig cfg = new TargetConfig(IQN, "127.0.0.1", 0, chapUser, chapSecret);
    IscsiTarget target = IscsiTarget.start(cfg, new ScsiCommands(pool));
    ControlServer control =
        ControlServer.start(
            new InetSocketAddress("127.0.0.1", 0), pool, cfg, target.port(), "admin", "pw");
    return new RunningArray(pool, target, control);
  }

  LunInfo create(String name, long size) {
    return pool.luns().create(name, size, Map.of());
  }

  String portal() {
    return "127.0.0.1:" + target.port();
  }

  /** The libiscsi/qemu URL of LUN {@code lun}. */
  String url(int lun) {
    return "iscsi://" + portal() + "/" + IQN + "/" + lun;
  }

  @Override
  public void close() throws IOException {
    control.close();
    target.close();
    pool.close();
  }
}
