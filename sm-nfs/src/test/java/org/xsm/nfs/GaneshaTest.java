package org.xsm.nfs;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.nfs.testing.GaneshaServer;

/** Base of the tests that need a real nfs-ganesha: one server per test class. */
abstract class GaneshaTest {
  @TempDir static Path work;
  static GaneshaServer ganesha;

  @BeforeAll
  static void startGanesha() throws IOException {
    ganesha = GaneshaServer.start(work.resolve("ganesha"));
  }

  @AfterAll
  static void stopGanesha() throws IOException {
    ganesha.stop();
  }
}
