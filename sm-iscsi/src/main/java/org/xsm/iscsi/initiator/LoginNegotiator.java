package org.xsm.iscsi.initiator;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The login phase of one connection (RFC 7143 sections 6.3 and 11.12): security negotiation (no
 * authentication, or CHAP with MD5), then operational negotiation, then the full feature phase.
 * Runs synchronously on the connection's streams before its reader thread starts.
 *
 * <p>What we offer: no digests, one connection, ImmediateData=Yes, InitialR2T=No, our
 * MaxRecvDataSegmentLength of {@value #MAX_RECV_DATA_SEGMENT_LENGTH}, large bursts, and error
 * recovery level 0 (a lost connection is recovered by logging in again and retrying whole
 * commands). The target's answers decide the {@link NegotiatedParameters}.
 */
final class LoginNegotiator {
  static final int MAX_RECV_DATA_SEGMENT_LENGTH = 262144;
  private static final int SECURITY = 0;
  private static final int OPERATIONAL = 1;
  private static final int FULL_FEATURE = 3;
  private static final int MAX_ROUNDS = 16;

  /** What the login settled, and where the sequence numbers start. */
  record Result(NegotiatedParameters parameters, int cmdSn, int maxCmdSn, int expStatSn) {}

  private record Answer(boolean transit, int nextStage, Map<String, String> keys, Pdu last) {}

  private final InputStream in;
  private final OutputStream out;
  private final InitiatorConfig config;
  private final byte[] isid;
  private final boolean discovery;
  private final int cmdSn;
  private int expStatSn;
  private int rounds;

  /**
   * Every key the target answered, last value wins: a target may declare operational values (e.g.
   * MaxRecvDataSegmentLength) already in the security stage.
   */
  private final Map<String, String> answered = new LinkedHashMap<>();

  LoginNegotiator(
      InputStream in, OutputStream out, InitiatorConfig config, byte[] isid, boolean discovery) {
    this.in = in;
    this.out = out;
    this.config = config;
    this.isid = isid.clone();
    this.discovery = discovery;
    this.cmdSn = 1;
  }

  Result login() throws IOException {
    Map<String, String> security = new LinkedHashMap<>();
    security.put("InitiatorName", config.initiatorIqn());
    security.put("SessionType", discovery ? "Discovery" : "Normal");
    if (!discovery) {
      if (config.targetIqn() == null) {
        throw new IllegalArgumentException("a normal session needs a target IQN");
      }
      security.put("TargetName", config.targetIqn());
    }
    boolean chap = config.chapUser() != null;
    security.put("AuthMethod", chap ? "CHAP,None" : "None");
    Answer a = exchange(!chap, SECURITY, OPERATIONAL, security);
    String method = a.keys().getOrDefault("AuthMethod", "None");
    if (method.equals("CHAP")) {
      if (!chap) {
        throw new IscsiException(
            "target " + config.targetIqn() + " requires CHAP; set a CHAP user and secret");
      }
      a = chap(a);
    } else if (!method.equals("None")) {
      throw new IscsiException(
          "target "
              + config.targetIqn()
              + " answered AuthMethod="
              + method
              + " to "
              + security.get("AuthMethod"));
    }
    while (!a.transit()) {
      a = exchange(true, SECURITY, OPERATIONAL, Map.of());
    }
    if (a.nextStage() != FULL_FEATURE) {
      a = exchange(true, OPERATIONAL, FULL_FEATURE, operationalOffer());
      while (!(a.transit() && a.nextStage() == FULL_FEATURE)) {
        a = exchange(true, OPERATIONAL, FULL_FEATURE, Map.of());
      }
    }
    Map<String, String> negotiated = answered;
    for (String digest : new String[] {"HeaderDigest", "DataDigest"}) {
      String v = negotiated.getOrDefault(digest, "None");
      if (!v.equals("None")) {
        throw new IscsiException(
            "target insists on " + digest + "=" + v + "; only None is supported");
      }
    }
    NegotiatedParameters p =
        new NegotiatedParameters(
            number(negotiated, "MaxRecvDataSegmentLength", 8192),
            number(negotiated, "FirstBurstLength", 65536),
            number(negotiated, "MaxBurstLength", 262144),
            yes(negotiated, "ImmediateData", true),
            yes(negotiated, "InitialR2T", true),
            a.last().bhs.getShort(14) & 0xffff);
    return new Result(p, a.last().intAt(28), a.last().intAt(32), expStatSn);
  }

  private Answer chap(Answer offered) throws IOException {
    Answer a = offered;
    if (a.transit()) {
      throw new IscsiException("target chose CHAP but ended the security stage without it");
    }
    a = exchange(false, SECURITY, SECURITY, Map.of("CHAP_A", Chap.ALGORITHM_MD5));
    String algorithm = a.keys().get("CHAP_A");
    String id = a.keys().get("CHAP_I");
    String challenge = a.keys().get("CHAP_C");
    if (!Chap.ALGORITHM_MD5.equals(algorithm) || id == null || challenge == null) {
      throw new IscsiException(
          "target answered the CHAP algorithm offer with " + a.keys() + "; expected CHAP_A=5");
    }
    Map<String, String> response = new LinkedHashMap<>();
    response.put("CHAP_N", config.chapUser());
    response.put("CHAP_R", Chap.response(id, config.chapSecret(), challenge));
    return exchange(true, SECURITY, OPERATIONAL, response);
  }

  private Map<String, String> operationalOffer() {
    Map<String, String> keys = new LinkedHashMap<>();
    keys.put("HeaderDigest", "None");
    keys.put("DataDigest", "None");
    keys.put("MaxRecvDataSegmentLength", Integer.toString(MAX_RECV_DATA_SEGMENT_LENGTH));
    keys.put("DefaultTime2Wait", "0");
    keys.put("DefaultTime2Retain", "0");
    keys.put("ErrorRecoveryLevel", "0");
    if (!discovery) {
      keys.put("MaxConnections", "1");
      keys.put("InitialR2T", "No");
      keys.put("ImmediateData", "Yes");
      keys.put("MaxBurstLength", "16776192");
      keys.put("FirstBurstLength", "262144");
      keys.put("MaxOutstandingR2T", "1");
      keys.put("DataPDUInOrder", "Yes");
      keys.put("DataSequenceInOrder", "Yes");
    }
    return keys;
  }

  /** Sends one login request and reads the answer, following C-bit continuations. */
  private Answer exchange(boolean transit, int stage, int nextStage, Map<String, String> keys)
      throws IOException {
    Map<String, String> answer = new LinkedHashMap<>();
    Pdu response;
    Map<String, String> send = keys;
    do {
      if (++rounds > MAX_ROUNDS) {
        throw new IscsiException("login did not finish after " + MAX_ROUNDS + " exchanges");
      }
      Pdu request = Pdu.request(Pdu.LOGIN_REQUEST, true);
      request.flags((transit ? 0x80 | nextStage : 0) | (stage << 2));
      request.bhs.put(8, isid);
      request.initiatorTaskTag(0);
      request.intAt(24, cmdSn);
      request.intAt(28, expStatSn);
      request.data(TextKeys.encode(send));
      request.writeTo(out);
      out.flush();
      response = Pdu.readFrom(in);
      if (response.opcode() != Pdu.LOGIN_RESPONSE) {
        throw new IscsiException("target answered a login request with " + response);
      }
      expStatSn = response.intAt(24) + 1;
      checkStatus(response);
      Map<String, String> received = TextKeys.decode(response.data);
      answer.putAll(received);
      answered.putAll(received);
      send = Map.of();
    } while ((response.flags() & 0x40) != 0);
    boolean transitAnswer = (response.flags() & 0x80) != 0;
    return new Answer(transitAnswer, response.flags() & 3, answer, response);
  }

  private void checkStatus(Pdu response) throws IscsiException {
    int statusClass = response.byteAt(36);
    int detail = response.byteAt(37);
    if (statusClass == 0) {
      return;
    }
    String target = discovery ? "discovery" : "target " + config.targetIqn();
    String why;
    if (statusClass == 1) {
      why = "redirected elsewhere (" + TextKeys.decode(response.data) + ")";
    } else if (statusClass == 2) {
      why =
          switch (detail) {
            case 1 -> "authentication failed (wrong CHAP user or secret, or CHAP required)";
            case 2 -> "this initiator is not authorized";
            case 3 -> "no such target";
            case 4 -> "target removed";
            case 5 -> "unsupported iSCSI version";
            case 6 -> "too many connections";
            case 7 -> "a required login parameter is missing";
            default -> String.format("initiator error 0x%02x", detail);
          };
    } else {
      why = String.format("target error class 0x%02x detail 0x%02x", statusClass, detail);
    }
    throw new IscsiException(
        "login to " + target + " at " + config.portal() + " refused: " + why,
        statusClass == 3,
        null);
  }

  private static int number(Map<String, String> keys, String key, int fallback)
      throws IscsiException {
    String v = keys.get(key);
    if (v == null || v.equals("Irrelevant") || v.equals("NotUnderstood")) {
      return fallback;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IscsiException("target answered " + key + "=" + v + ", not a number");
    }
  }

  private static boolean yes(Map<String, String> keys, String key, boolean fallback) {
    String v = keys.get(key);
    if (v == null || !(v.equals("Yes") || v.equals("No"))) {
      return fallback;
    }
    return v.equals("Yes");
  }
}
