package org.xsm.bench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Where an NBD client reaches a VDI: the first record of {@code VDI.get_nbd_info}. */
final class NbdTargets {
  private NbdTargets() {}

  static NbdClient.Target of(JsonRpc rpc, String session, String vdi) throws Exception {
    String r = rpc.call("VDI.get_nbd_info", session, vdi);
    Matcher port = Pattern.compile("\"port\":\"?(\\d+)").matcher(r);
    if (!port.find()) {
      throw new IllegalStateException("VDI.get_nbd_info gave no server: " + r);
    }
    return new NbdClient.Target(
        field(r, "address"),
        Integer.parseInt(port.group(1)),
        field(r, "exportname"),
        field(r, "cert"),
        field(r, "subject"));
  }

  private static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":\"((?:[^\"\\\\]++|\\\\.)*+)\"").matcher(json);
    if (!m.find()) {
      throw new IllegalStateException("no " + name + " in " + json);
    }
    return m.group(1).replace("\\n", "\n").replace("\\/", "/").replace("\\\"", "\"");
  }
}
