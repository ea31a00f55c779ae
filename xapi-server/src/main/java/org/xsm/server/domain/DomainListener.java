package org.xsm.server.domain;

/**
 * Told when a domain ends on its own (not through {@link Domains#destroy} or {@link
 * Domains#shutdown}): the guest powered off, or the domain crashed. Called on a thread of the
 * domains implementation; it must not call back into the same domain synchronously while holding
 * locks of its own.
 */
public interface DomainListener {
  /** How a domain ended. */
  enum Exit {
    /** The guest shut itself down (ACPI power off, {@code poweroff} in the guest). */
    GUEST_SHUTDOWN,
    /** The domain died without being asked (the process was killed or crashed). */
    CRASH
  }

  void ended(String vmUuid, Exit exit, String detail);

  /**
   * The guest said (through its agent channel) that its NIC with {@code mac} has the IPv4 address
   * {@code ipv4}. Called on a thread of the domains implementation.
   */
  default void guestAddress(String vmUuid, String mac, String ipv4) {}
}
