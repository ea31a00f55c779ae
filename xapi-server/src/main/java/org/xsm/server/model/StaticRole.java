package org.xsm.server.model;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * xapi's six static roles, in decreasing order of privilege: each role has every permission of the
 * roles after it. Their {@code role} records are xapi's: the same name labels, descriptions and
 * UUIDs (pool-admin's is fixed; the others' are the MD5 digest of the name, as xapi makes them), so
 * a client that remembers a role's UUID or reference finds it here too.
 */
public enum StaticRole implements WireEnum {
  POOL_ADMIN(
      "pool-admin",
      "The Pool Administrator role has full access to all features and settings, including"
          + " accessing Dom0 and managing subjects, roles and external authentication"),
  POOL_OPERATOR(
      "pool-operator",
      "The Pool Operator role manages host- and pool-wide resources, including setting up"
          + " storage, creating resource pools and managing patches, high availability (HA) and"
          + " workload balancing (WLB)"),
  VM_POWER_ADMIN(
      "vm-power-admin",
      "The VM Power Administrator role has full access to VM and template management and can"
          + " choose where to start VMs and use the dynamic memory control and VM snapshot"
          + " features"),
  VM_ADMIN("vm-admin", "The VM Administrator role can manage VMs and templates"),
  VM_OPERATOR("vm-operator", "The VM Operator role can use VMs and interact with VM consoles"),
  READ_ONLY("read-only", "The Read-Only role can log in with basic read-only access");

  /** xapi's fixed UUID of pool-admin (the default role of a subject in its datamodel). */
  private static final String POOL_ADMIN_UUID = "0165f154-ba3e-034e-6b27-5d271af109ba";

  private final String label;
  private final String description;

  StaticRole(String label, String description) {
    this.label = label;
    this.description = description;
  }

  @Override
  public String wire() {
    return label;
  }

  public String description() {
    return description;
  }

  /** Whether this role has every permission of {@code other} (roles are totally ordered). */
  public boolean includes(StaticRole other) {
    return ordinal() <= other.ordinal();
  }

  /** The role's UUID, as xapi's. */
  public String uuid() {
    return this == POOL_ADMIN ? POOL_ADMIN_UUID : digestUuid(label);
  }

  /** The role's reference: xapi's static roles are {@code OpaqueRef:<uuid>}. */
  public Ref<Role> ref() {
    return Ref.of("OpaqueRef:" + uuid());
  }

  /** The role named {@code label} (case-insensitively), or null. */
  public static StaticRole byLabel(String label) {
    return WireEnum.parse(StaticRole.class, label);
  }

  /**
   * The UUID xapi gives a static role or permission: the 16 bytes of the MD5 digest of its name,
   * written as a UUID.
   */
  public static String digestUuid(String name) {
    try {
      ByteBuffer h =
          ByteBuffer.wrap(
              MessageDigest.getInstance("MD5").digest(name.getBytes(StandardCharsets.UTF_8)));
      return new UUID(h.getLong(), h.getLong()).toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is part of every JDK", e);
    }
  }
}
