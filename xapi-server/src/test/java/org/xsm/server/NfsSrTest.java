package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.VDI;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xsm.nfs.testing.GaneshaServer;

/**
 * An NFS SR made through the XenAPI ({@code SR.create} type nfs) on a real nfs-ganesha: the server
 * finds the NFS backend by ServiceLoader, with no import of it in the server's code.
 */
@QuarkusTest
class NfsSrTest {
  private static final long MIB = 1024 * 1024;
  private static Path work;
  private static GaneshaServer ganesha;

  @TestHTTPResource("/")
  URL url;

  @BeforeAll
  static void startGanesha() throws Exception {
    work = Files.createTempDirectory("xsm-nfs-sr-test-");
    ganesha = GaneshaServer.start(work);
  }

  @AfterAll
  static void stopGanesha() throws Exception {
    ganesha.stop();
  }

  @Test
  void srCreateOfTypeNfsMakesAnSrOnTheExport() throws Exception {
    Connection c = new Connection(url);
    Session.loginWithPassword(c, "root", "xsm-test-root", "2.21");
    try {
      Host host = Host.getAll(c).iterator().next();
      SR sr =
          SR.create(
              c,
              host,
              Map.of("server", "127.0.0.1", "serverpath", GaneshaServer.EXPORT),
              0L,
              "nfs",
              "",
              "nfs",
              "user",
              true,
              Map.of());
      SR.Record r = sr.getRecord(c);
      assertThat(r.type).isEqualTo("nfs");
      assertThat(r.PBDs).hasSize(1);
      assertThat(Files.isRegularFile(ganesha.exportDir().resolve(r.uuid).resolve(".xsm-sr")))
          .as("the SR's directory on the export")
          .isTrue();

      VDI vdi = SdkTest.newVdi(c, sr, "on-nfs", 16 * MIB, Map.of());
      String location = vdi.getLocation(c);
      assertThat(ganesha.exportDir().resolve(r.uuid).resolve(location + ".vhd")).isRegularFile();
      assertThat(sr.getVDIs(c)).contains(vdi);

      // Leave no SR on a server that stops with this class: the app outlives it.
      vdi.destroy(c);
      sr.destroy(c);
      assertThat(ganesha.exportDir().resolve(r.uuid)).doesNotExist();
    } finally {
      Session.logout(c);
    }
  }
}
