package org.xsm.server.model;

/** The class of object a message is about (cls). */
public enum MessageClass implements WireEnum {
  VM("VM"),
  HOST("Host"),
  SR("SR"),
  POOL("Pool"),
  VMPP("VMPP"),
  VMSS("VMSS"),
  PVS_PROXY("PVS_proxy"),
  VDI("VDI"),
  CERTIFICATE("Certificate");

  private final String wire;

  MessageClass(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }
}
