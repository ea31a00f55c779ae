package org.xsm.iscsi.array.target;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.xsm.iscsi.array.pdu.Opcode;
import org.xsm.iscsi.array.pdu.Pdu;
import org.xsm.iscsi.array.pdu.TextParameters;

/**
 * The login phase of one connection (RFC 7143 sections 6.3 and 11.12-11.13): security negotiation
 * (none, or one-way CHAP when the target has a CHAP user), operational negotiation, then the move
 * to full feature phase. Discovery sessions may log in without CHAP.
 */
final class Login {
  static final int SECURITY = 0;
  static final int OPERATIONAL = 1;
  static final int FULL_FEATURE = 3;

  private static final AtomicInteger NEXT_TSIH = new AtomicInteger(1);

  private final TargetConfig config;
  private final Negotiation negotiation;
  private boolean discovery;
  private boolean authenticated;
  private boolean firstResponse = true;
  private Chap chap;
  private int status;
  private boolean done;

  Login(TargetConfig config, Negotiation negotiation) {
    this.config = config;
    this.negotiation = negotiation;
  }

  boolean discovery() {
    return discovery;
  }

  /** True once the last response moved the connection to full feature phase. */
  boolean done() {
    return done;
  }

  /** True if the last response carried a failure status: the connection must close. */
  boolean failed() {
    return status != 0;
  }

  /** Builds the response to one Login Request (StatSN and CmdSN fields are the caller's). */
  Pdu respond(Pdu req) {
    Map<String, String> keys = TextParameters.parse(req.data(), req.dataLength());
    int flags = req.flags();
    boolean transit = (flags & 0x80) != 0;
    int csg = (flags >>> 2) & 3;
    int nsg = flags & 3;
    Map<String, String> answer = new LinkedHashMap<>();
    status = 0;
    if (firstResponse) {
      status = checkFirst(req, keys);
    }
    if (status == 0 && firstResponse && !discovery) {
      answer.put("TargetPortalGroupTag", "1");
    }
    if (status == 0 && csg == SECURITY) {
      transit = security(keys, answer, transit);
    } else if (status == 0 && csg == OPERATIONAL) {
      if (config.chap() && !discovery && !authenticated) {
        status = 0x0201; // skipped the security stage the target requires
      }
      negotiation.negotiate(keys, answer);
    } else if (status == 0) {
      status = 0x020b; // invalid current stage
    }
    if (status == 0 && transit && nsg == FULL_FEATURE) {
      answer.putAll(negotiation.closing());
    }
    Pdu resp = Pdu.create(Opcode.LOGIN_RESPONSE);
    System.arraycopy(req.header(), 8, resp.header(), 8, 6); // ISID
    if (status == 0 && transit) {
      resp.flags(0x80 | (csg << 2) | nsg);
      if (nsg == FULL_FEATURE) {
        done = true;
        int tsih = NEXT_TSIH.getAndUpdate(t -> t >= 0xffff ? 1 : t + 1);
        resp.byteAt(14, tsih >>> 8).byteAt(15, tsih);
      }
    } else {
      resp.flags(csg << 2);
    }
    resp.intAt(16, req.itt());
    resp.byteAt(36, status >>> 8).byteAt(37, status);
    byte[] text = status == 0 ? TextParameters.encode(answer) : new byte[0];
    resp.data(text, text.length);
    firstResponse = false;
    return resp;
  }

  private int checkFirst(Pdu req, Map<String, String> keys) {
    if (req.byteAt(3) > 0) {
      return 0x0205; // VersionMin above the only version (0) there is
    }
    if (!keys.containsKey("InitiatorName")) {
      return 0x0207;
    }
    String type = keys.getOrDefault("SessionType", "Normal");
    discovery = type.equals("Discovery");
    if (!discovery && !type.equals("Normal")) {
      return 0x0209;
    }
    if (!discovery && !config.iqn().equals(keys.get("TargetName"))) {
      return 0x0203;
    }
    return 0;
  }

  private boolean security(Map<String, String> keys, Map<String, String> answer, boolean transit) {
    boolean needChap = config.chap() && !discovery;
    String offered = keys.get("AuthMethod");
    if (offered != null) {
      boolean chapOffered = Arrays.asList(offered.split(",")).contains("CHAP");
      boolean noneOffered = Arrays.asList(offered.split(",")).contains("None");
      if (chapOffered && (needChap || (!noneOffered && config.chap()))) {
        answer.put("AuthMethod", "CHAP");
        return false;
      }
      if (!noneOffered || needChap) {
        answer.put("AuthMethod", "Reject");
        status = 0x0201;
        return false;
      }
      answer.put("AuthMethod", "None");
      authenticated = true;
    }
    if (keys.containsKey("CHAP_A")) {
      if (!config.chap() || !Arrays.asList(keys.get("CHAP_A").split(",")).contains("5")) {
        status = 0x0201;
        return false;
      }
      chap = Chap.newChallenge();
      answer.put("CHAP_A", "5");
      answer.put("CHAP_I", Integer.toString(chap.id));
      answer.put("CHAP_C", chap.challengeHex());
      return false;
    }
    if (keys.containsKey("CHAP_R")) {
      if (chap == null
          || keys.containsKey("CHAP_C") // mutual CHAP: this target has no secret of its own
          || !config.chapUser().equals(keys.get("CHAP_N"))
          || !chap.verify(config.chapSecret(), keys.get("CHAP_R"))) {
        status = 0x0201;
        return false;
      }
      authenticated = true;
      chap = null;
    }
    if (transit && needChap && !authenticated) {
      status = 0x0201;
      return false;
    }
    negotiation.negotiate(operationalOnly(keys), answer);
    return transit;
  }

  private static Map<String, String> operationalOnly(Map<String, String> keys) {
    Map<String, String> m = new LinkedHashMap<>(keys);
    m.keySet().removeIf(k -> k.startsWith("CHAP_") || k.equals("AuthMethod"));
    return m;
  }
}
