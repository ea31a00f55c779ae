package org.xsm.server;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Session;
import io.quarkus.test.common.http.TestHTTPResource;
import java.net.URL;
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
}
