package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URL;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.xsm.api.VdiDevice;
import org.xsm.server.model.Ref;
import org.xsm.server.sr.SrService;

/** VDI.copy copies the data; the copy is independent of its source. */
@QuarkusTest
class VdiCopyTest {
  @TestHTTPResource("/")
  URL url;

  @Inject SrService storage;

  @Test
  void copyHasTheSameBytes() throws Exception {
    Connection c = new Connection(url);
    Session.loginWithPassword(c, "root", "xsm-test-root", "2.21");
    SR sr = Pool.getAll(c).iterator().next().getDefaultSR(c);
    VDI.Record r = new VDI.Record();
    r.nameLabel = "source";
    r.SR = sr;
    r.virtualSize = 16L * 1024 * 1024;
    r.type = Types.VdiType.USER;
    r.otherConfig = Map.of();
    r.tags = Set.of();
    VDI src = VDI.create(c, r);
    byte[] data = new byte[3 * 1024 * 1024 + 17];
    new Random(5).nextBytes(data);
    VdiDevice d = storage.activate(Ref.of(src.toWireString()), true);
    d.write(ByteBuffer.wrap(data), 5 * 1024 * 1024 + 3);
    d.flush();
    storage.deactivate(Ref.of(src.toWireString()));

    VDI copy = src.copy(c, sr);
    assertThat(copy.getVirtualSize(c)).isEqualTo(16L * 1024 * 1024);
    assertThat(copy.getNameLabel(c)).isEqualTo("source");
    assertThat(read(src)).isEqualTo(read(copy));
    byte[] got = read(copy);
    assertThat(
            java.util.Arrays.copyOfRange(
                got, 5 * 1024 * 1024 + 3, 5 * 1024 * 1024 + 3 + data.length))
        .isEqualTo(data);
    src.destroy(c);
    assertThat(read(copy)).isEqualTo(got);
    copy.destroy(c);
    Session.logout(c);
  }

  private byte[] read(VDI v) throws Exception {
    VdiDevice d = storage.activate(Ref.of(v.toWireString()), false);
    try {
      ByteBuffer b = ByteBuffer.allocate((int) d.sizeBytes());
      d.read(b, 0);
      return b.array();
    } finally {
      storage.deactivate(Ref.of(v.toWireString()));
    }
  }
}
