package org.xsm.iscsi.initiator;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** SendTargets discovery (RFC 7143 appendix C) over a discovery session. */
public final class Discovery {
  private Discovery() {}

  /**
   * A target a portal reports.
   *
   * @param iqn its name
   * @param addresses its portals as {@code host:port,tpgt}
   */
  public record Target(String iqn, List<String> addresses) {
    public Target {
      addresses = List.copyOf(addresses);
    }
  }

  /** Logs in for discovery (with CHAP if configured), asks {@code SendTargets=All}, logs out. */
  public static List<Target> sendTargets(InitiatorConfig config) throws IOException {
    byte[] isid = new byte[6];
    new SecureRandom().nextBytes(isid);
    isid[0] = (byte) (0x80 | (isid[0] & 0x3f));
    List<Target> targets = new ArrayList<>();
    try (IscsiConnection c = IscsiConnection.open(config, isid, true)) {
      String name = null;
      List<String> addresses = new ArrayList<>();
      for (TextKeys.Pair p : c.text(Map.of("SendTargets", "All"))) {
        if (p.key().equals("TargetName")) {
          if (name != null) {
            targets.add(new Target(name, addresses));
          }
          name = p.value();
          addresses = new ArrayList<>();
        } else if (p.key().equals("TargetAddress") && name != null) {
          addresses.add(p.value());
        }
      }
      if (name != null) {
        targets.add(new Target(name, addresses));
      }
    }
    return targets;
  }
}
