package org.xsm.iscsi.array.target;

/**
 * How the target presents itself.
 *
 * @param iqn the single target's name
 * @param host the portal address the target listens on and advertises
 * @param port the portal port (0: pick a free one)
 * @param chapUser CHAP user initiators must log in as, or null for no authentication
 * @param chapSecret that user's CHAP secret
 */
public record TargetConfig(String iqn, String host, int port, String chapUser, String chapSecret) {
  public static final String DEFAULT_IQN = "iqn.2026-11.org.xsm:array";

  public boolean chap() {
    return chapUser != null;
  }
}
