package org.xsm.server.session;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A local user's salted password hash and role; never part of any XenAPI record. */
@Entity
@Table(name = "xsm_credential")
public class Credential extends PanacheEntityBase {
  @Id
  @Column(length = 128)
  public String name;

  @Column(nullable = false, length = 64)
  public String salt;

  @Column(nullable = false, length = 128)
  public String hash;

  /**
   * The role XSM_USERS gave (one of xapi's six); what counts at login is the user's subject's
   * roles.
   */
  @Column(nullable = false, length = 32)
  public String role;
}
