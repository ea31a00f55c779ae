package org.xsm.iscsi.array.target;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Operational parameter negotiation (RFC 7143 section 13): the target's answer to each key the
 * initiator offers, and the resulting session values. Unknown keys get {@code NotUnderstood}.
 */
final class Negotiation {
  /** Largest data segment this target accepts in one PDU. */
  static final int OUR_MAX_RECV_DATA_SEGMENT = 256 * 1024;

  private static final int OUR_MAX_BURST = 16 * 1024 * 1024;
  private static final int OUR_FIRST_BURST = 256 * 1024;

  /** Largest data segment the initiator accepts: Data-In PDUs are cut to it. */
  int initiatorMaxRecvDataSegment = 8192;

  int maxBurst = 262144;
  int firstBurst = 65536;
  boolean immediateData = true;
  boolean initialR2t = true;
  private boolean sentOurMaxRecv;

  /** Answers the operational keys in {@code keys} into {@code answer}. */
  void negotiate(Map<String, String> keys, Map<String, String> answer) {
    for (Map.Entry<String, String> e : keys.entrySet()) {
      String k = e.getKey();
      String v = e.getValue();
      switch (k) {
        case "InitiatorName", "InitiatorAlias", "TargetName", "SessionType", "AuthMethod" -> {}
        case "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R" -> {}
        case "HeaderDigest", "DataDigest" -> answer.put(k, "None");
        case "MaxConnections" -> answer.put(k, "1");
        case "InitialR2T" -> answer.put(k, "Yes");
        case "ImmediateData" -> {
          immediateData = v.equals("Yes");
          answer.put(k, immediateData ? "Yes" : "No");
        }
        case "MaxRecvDataSegmentLength" -> initiatorMaxRecvDataSegment = number(v, 8192);
        case "MaxBurstLength" -> {
          maxBurst = Math.min(number(v, 262144), OUR_MAX_BURST);
          answer.put(k, Integer.toString(maxBurst));
        }
        case "FirstBurstLength" -> {
          firstBurst = Math.min(number(v, 65536), OUR_FIRST_BURST);
          answer.put(k, Integer.toString(firstBurst));
        }
        case "DefaultTime2Wait", "DefaultTime2Retain" -> answer.put(k, v);
        case "MaxOutstandingR2T" -> answer.put(k, "1");
        case "DataPDUInOrder", "DataSequenceInOrder" -> answer.put(k, "Yes");
        case "ErrorRecoveryLevel" -> answer.put(k, "0");
        case "IFMarker", "OFMarker" -> answer.put(k, "No");
        default -> answer.put(k, "NotUnderstood");
      }
    }
    if (!sentOurMaxRecv && keys.containsKey("MaxRecvDataSegmentLength")) {
      answer.put("MaxRecvDataSegmentLength", Integer.toString(OUR_MAX_RECV_DATA_SEGMENT));
      sentOurMaxRecv = true;
    }
  }

  /** Keys to declare when the initiator ends operational negotiation without having sent any. */
  Map<String, String> closing() {
    Map<String, String> m = new LinkedHashMap<>();
    if (!sentOurMaxRecv) {
      m.put("MaxRecvDataSegmentLength", Integer.toString(OUR_MAX_RECV_DATA_SEGMENT));
      sentOurMaxRecv = true;
    }
    return m;
  }

  private static int number(String v, int fallback) {
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      return fallback;
    }
  }
}
