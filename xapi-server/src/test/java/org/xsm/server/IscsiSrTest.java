package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.PBD;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Secret;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.VDI;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.iscsi.ArrayProcess;

/**
 * An SR of type {@code iscsi} through XenAPI (the Java SDK): the server finds the iscsi plugin on
 * its class path and drives a real storage array (a child process) with it.
 */
@QuarkusTest
class IscsiSrTest {
  private static final long MIB = 1024 * 1024;

  @TestHTTPResource("/")
  URL url;

  @TempDir Path dir;

  @Test
  void srCreateVdiSnapshotAndCloneOnTheArray() throws Exception {
    try (ArrayProcess array = ArrayProcess.start(dir.resolve("pool"))) {
      Connection c = new Connection(url);
      Session.loginWithPassword(c, "root", "xsm-test-root", "2.21");
      try {
        Host host = Host.getAll(c).iterator().next();
        SR sr =
            SR.create(
                c, host, array.deviceConfig(), 0L, "array", "", "iscsi", "user", false, Map.of());
        assertThat(sr.getType(c)).isEqualTo("iscsi");
        assertThat(sr.getPBDs(c)).hasSize(1);
        // The array's password is kept as a secret, as xapi keeps device_config passwords.
        PBD pbd = sr.getPBDs(c).iterator().next();
        Map<String, String> dc = pbd.getDeviceConfig(c);
        String password = array.deviceConfig().get("controlPassword");
        assertThat(dc).doesNotContainKey("controlPassword").containsKey("controlPassword_secret");
        assertThat(dc.values()).doesNotContain(password);
        Secret secret = Secret.getByUuid(c, dc.get("controlPassword_secret"));
        assertThat(secret.getValue(c)).isEqualTo(password);
        pbd.unplug(c);
        pbd.plug(c); // the driver gets the clear value back from the secret
        VDI vdi = SdkTest.newVdi(c, sr, "on the array", 8 * MIB, Map.of());
        assertThat(vdi.getVirtualSize(c)).isEqualTo(8 * MIB);
        VDI snap = vdi.snapshot(c, Map.of());
        assertThat(snap.getReadOnly(c)).isTrue();
        assertThat(snap.getIsASnapshot(c)).isTrue();
        VDI clone = snap.createClone(c, Map.of());
        assertThat(clone.getReadOnly(c)).isFalse();
        sr.scan(c);
        assertThat(sr.getVDIs(c)).contains(vdi, snap, clone).hasSize(3);
        for (VDI v : List.of(clone, snap, vdi)) {
          v.destroy(c);
        }
        sr.forget(c);
        assertThatThrownBy(() -> secret.getValue(c)).as("the PBD's secret went with it");

        Map<String, String> wrong = new HashMap<>(array.deviceConfig());
        wrong.put("controlPassword", "not-it");
        assertThatThrownBy(
                () -> SR.create(c, host, wrong, 0L, "bad", "", "iscsi", "user", false, Map.of()))
            .satisfies(
                e ->
                    assertThat(e.toString())
                        .startsWith("SR_BACKEND_FAILURE_47")
                        .contains("401 UNAUTHORIZED"));
      } finally {
        Session.logout(c);
      }
    }
  }
}
