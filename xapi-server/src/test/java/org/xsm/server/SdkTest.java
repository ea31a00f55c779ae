package org.xsm.server;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import io.quarkus.test.common.http.TestHTTPResource;
import java.net.URL;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The base of tests that drive the server as its users do, through the XenServer Java SDK: each
 * test runs in a session of root's, ended afterwards.
 */
public abstract class SdkTest {
  @TestHTTPResource("/")
  protected URL url;

  /** Root's connection for the running test. */
  protected Connection c;

  @BeforeEach
  void loginAsRoot() throws Exception {
    c = new Connection(url);
    Session.loginWithPassword(c, "root", "xsm-test-root", "2.21");
  }

  @AfterEach
  void logoutRoot() throws Exception {
    Session.logout(c);
  }

  /** The pool's default SR: the local EXT SR the server made at its first start. */
  protected SR defaultSr() throws Exception {
    return Pool.getAll(c).iterator().next().getDefaultSR(c);
  }

  /** A new user disk of {@code sizeBytes} on the default SR. */
  protected VDI newVdi(String name, long sizeBytes) throws Exception {
    return newVdi(c, defaultSr(), name, sizeBytes, Map.of());
  }

  /** A new user disk, made with {@code VDI.create} and a full record, as SDK users make one. */
  public static VDI newVdi(
      Connection c, SR sr, String name, long sizeBytes, Map<String, String> otherConfig)
      throws Exception {
    VDI.Record r = new VDI.Record();
    r.nameLabel = name;
    r.nameDescription = "";
    r.SR = sr;
    r.virtualSize = sizeBytes;
    r.type = Types.VdiType.USER;
    r.sharable = false;
    r.readOnly = false;
    r.otherConfig = otherConfig;
    r.xenstoreData = Map.of();
    r.smConfig = Map.of();
    r.tags = Set.of();
    return VDI.create(c, r);
  }
}
