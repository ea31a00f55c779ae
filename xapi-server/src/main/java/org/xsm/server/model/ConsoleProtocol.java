package org.xsm.server.model;

/** The XenAPI enumeration of ConsoleProtocol (wire names as xapi sends them). */
public enum ConsoleProtocol implements WireEnum {
  VT100("vt100"),
  RFB("rfb"),
  RDP("rdp");

  private final String wire;

  ConsoleProtocol(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
