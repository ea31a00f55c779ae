package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    VDI src = newVdi(c, sr, "source", 16L * 1024 * 1024);
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

  /**
   * Found by the soak: a copy refused because its source was in use left its new, empty VDI behind.
   */
  @Test
  void aRefusedCopyLeavesNoVdiBehind() throws Exception {
    Connection c = new Connection(url);
    Session.loginWithPassword(c, "root", "xsm-test-root", "2.21");
    SR sr = Pool.getAll(c).iterator().next().getDefaultSR(c);
    VDI src = newVdi(c, sr, "source in use", 4L * 1024 * 1024);
    int before = sr.getVDIs(c).size();
    storage.activate(Ref.of(src.toWireString()), true); // written by someone: in use
    try {
      assertThatThrownBy(() -> src.copy(c, sr)).isInstanceOf(Types.XenAPIException.class);
    } finally {
      storage.deactivate(Ref.of(src.toWireString()));
    }
    assertThat(sr.getVDIs(c)).hasSize(before);
    assertThat(VDI.getByNameLabel(c, "source in use")).containsExactly(src);
    src.destroy(c);
    Session.logout(c);
  }

  private static VDI newVdi(Connection c, SR sr, String name, long size) throws Exception {
    VDI.Record r = new VDI.Record();
    r.nameLabel = name;
    r.SR = sr;
    r.virtualSize = size;
    r.type = Types.VdiType.USER;
    r.otherConfig = Map.of();
    r.tags = Set.of();
    return VDI.create(c, r);
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
