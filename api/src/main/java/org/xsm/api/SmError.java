package org.xsm.api;

/**
 * Stable SM error codes, numbered as xapi's storage manager numbers them. The number is what a
 * XenAPI client sees in {@code SR_BACKEND_FAILURE_<n>}, except for the few codes xapi maps to an
 * error of their own ({@link #xenApiName()}).
 */
public enum SmError {
  SR_IN_USE(16, "SR_DEVICE_IN_USE"),
  VDI_IN_USE(24, "VDI_IN_USE"),
  UNIMPLEMENTED(38, "SR_OPERATION_NOT_SUPPORTED"),
  SR_NOT_EMPTY(39, "SR_NOT_EMPTY"),
  SR_SCAN(40, null),
  VDI_EXISTS(43, null),
  SR_NO_SPACE(44, null),
  VDI_UNAVAILABLE(46, null),
  SR_UNAVAILABLE(47, null),
  VDI_LOAD(65, null),
  NFS_VERSION(72, null),
  NFS_MOUNT(73, null),
  VDI_CREATE(78, null),
  VDI_SIZE(79, null),
  VDI_DELETE(80, null),
  VDI_CLONE(81, null),
  VDI_SNAPSHOT(82, null),
  NFS_TARGET(108, null),
  SNAPSHOT_CHAIN_TOO_LONG(109, null),
  VDI_RESIZE(110, null),
  BAD_REQUEST(143, null),
  VDI_MISSING(144, "VDI_MISSING"),
  EIO(200, null),
  GENERAL(202, null),
  SHARED_FS_NO_WRITE(461, null),
  /** No driver for the SR type; not an SM number (xapi checks this before calling SM). */
  UNKNOWN_DRIVER(0, "SR_UNKNOWN_DRIVER"),
  /** The SR is not attached, or was detached. */
  SR_NOT_ATTACHED(0, "SR_NOT_ATTACHED"),
  /** CBT metadata is missing or inconsistent (e.g. after a crash while the VDI was active). */
  VDI_NO_CBT_METADATA(0, "VDI_NO_CBT_METADATA");

  private final int number;
  private final String xenApiName;

  SmError(int number, String xenApiName) {
    this.number = number;
    this.xenApiName = xenApiName;
  }

  /** The SM error number (0 for codes that are XenAPI errors only). */
  public int number() {
    return number;
  }

  /** The XenAPI error name a client sees: a dedicated error, or {@code SR_BACKEND_FAILURE_<n>}. */
  public String xenApiName() {
    return xenApiName != null ? xenApiName : "SR_BACKEND_FAILURE_" + number;
  }
}
