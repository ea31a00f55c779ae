package org.xsm.iscsi;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.Properties;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.iscsi.initiator.InitiatorConfig;

/**
 * What {@code vdi_generate_config} hands out for a VDI: enough to log in to the array's target and
 * use the LUN without the SR or the server's database (portal, target, LUN number, CHAP, whether
 * the LUN is read-only), as Java properties text. Like xapi's iSCSI config it carries the CHAP
 * secret, so it is as sensitive as the SR's {@code device_config}.
 */
record GeneratedConfig(
    String location,
    String portal,
    String targetIqn,
    int lun,
    boolean readOnly,
    String chapUser,
    String chapSecret) {

  String encode() {
    Properties p = new Properties();
    p.setProperty("location", location);
    p.setProperty("portal", portal);
    p.setProperty("targetIQN", targetIqn);
    p.setProperty("lun", Integer.toString(lun));
    p.setProperty("readOnly", Boolean.toString(readOnly));
    if (chapUser != null) {
      p.setProperty("chapuser", chapUser);
      p.setProperty("chappassword", chapSecret);
    }
    StringWriter w = new StringWriter();
    try {
      p.store(w, "xsm iscsi VDI config");
    } catch (IOException e) {
      throw new IllegalStateException("a StringWriter does not fail", e);
    }
    return w.toString();
  }

  /**
   * Parses a config from {@link #encode()}.
   *
   * @throws SmException {@link SmError#BAD_REQUEST} naming what is missing or malformed
   */
  static GeneratedConfig parse(String text) throws SmException {
    Properties p = new Properties();
    try {
      p.load(new StringReader(text));
    } catch (IOException | IllegalArgumentException e) {
      throw new SmException(SmError.BAD_REQUEST, "malformed VDI config: " + e.getMessage(), e);
    }
    String[] required = {"location", "portal", "targetIQN", "lun", "readOnly"};
    for (String key : required) {
      if (p.getProperty(key) == null || p.getProperty(key).isBlank()) {
        throw new SmException(SmError.BAD_REQUEST, "VDI config has no " + key);
      }
    }
    int lun;
    try {
      lun = Integer.parseInt(p.getProperty("lun"));
    } catch (NumberFormatException e) {
      throw new SmException(SmError.BAD_REQUEST, "VDI config has a bad lun: " + e.getMessage(), e);
    }
    return new GeneratedConfig(
        p.getProperty("location"),
        p.getProperty("portal"),
        p.getProperty("targetIQN"),
        lun,
        Boolean.parseBoolean(p.getProperty("readOnly")),
        p.getProperty("chapuser"),
        p.getProperty("chappassword"));
  }

  InitiatorConfig initiator() throws SmException {
    try {
      InitiatorConfig c = InitiatorConfig.forPortal(portal, targetIqn);
      return chapUser == null ? c : c.withChap(chapUser, chapSecret);
    } catch (IllegalArgumentException e) {
      throw new SmException(SmError.BAD_REQUEST, "VDI config: " + e.getMessage(), e);
    }
  }
}
