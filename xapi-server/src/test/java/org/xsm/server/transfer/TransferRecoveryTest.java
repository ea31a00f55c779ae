package org.xsm.server.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.xsm.api.VdiDevice;
import org.xsm.server.model.Ref;
import org.xsm.server.sr.SrService;

/**
 * An import cut by a crash while it was being applied: the state the crash leaves (spool, redo
 * record, VDI half written) is made by hand, then the start-up recovery must finish the import, and
 * clear the spool directory, including a spool that never got validated.
 */
@QuarkusTest
class TransferRecoveryTest {
  private static final int SIZE = 8 * 1024 * 1024;

  @TestHTTPResource("/")
  URL url;

  @Inject TransferRoutes routes;
  @Inject SrService storage;

  @Test
  void anImportCutWhileApplyingIsAppliedAgainAtStart() throws Exception {
    Connection c = new Connection(url);
    Session.loginWithPassword(c, "root", "xsm-test-root", "2.21");
    try {
      VDI.Record d = new VDI.Record();
      d.nameLabel = "recovery";
      d.SR = Pool.getAll(c).iterator().next().getDefaultSR(c);
      d.virtualSize = (long) SIZE;
      d.type = Types.VdiType.USER;
      d.otherConfig = Map.of();
      d.tags = Set.of();
      VDI v = VDI.create(c, d);
      byte[] image = new byte[SIZE];
      new Random(9).nextBytes(image);
      Path dir = routes.spoolDir();
      Files.createDirectories(dir);
      Path spool = dir.resolve("cut.spool");
      Files.write(spool, image);
      VdiImport.markApplying(spool, v.getUuid(c), "raw");
      VdiDevice dev = storage.activate(Ref.of(v.toWireString()), true);
      try {
        dev.write(ByteBuffer.wrap(image, 0, SIZE / 3), 0); // the part applied before the crash
        dev.flush();
      } finally {
        storage.deactivate(Ref.of(v.toWireString()));
      }
      Files.write(dir.resolve("never-validated.spool"), new byte[4096]);

      routes.rollForward();

      try (Stream<Path> left = Files.list(dir)) {
        assertThat(left).as("spool directory after recovery").isEmpty();
      }
      HttpResponse<byte[]> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:"
                                  + url.getPort()
                                  + "/export_raw_vdi?session_id="
                                  + c.getSessionReference()
                                  + "&vdi="
                                  + v.toWireString()))
                      .build(),
                  HttpResponse.BodyHandlers.ofByteArray());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo(image);
    } finally {
      Session.logout(c);
    }
  }
}
