package org.xsm.server.model;

/**
 * The type of references to XenAPI classes xsm does not keep (PCI, VMSS, Bond, crashdump...). Their
 * fields exist so that records carry every field clients read; such references are always {@code
 * OpaqueRef:NULL} and such sets always empty.
 */
public final class Unmodelled {
  private Unmodelled() {}
}
