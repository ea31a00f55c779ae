package org.xsm.server.db;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Lob;
import jakarta.persistence.Table;

/**
 * How a XenAPI record is persisted: its reference, class, UUID and stored fields as JSON. The live
 * copy is in {@link Database}; this table is its durable image, written in the same call.
 */
@Entity
@Table(name = "xapi_object")
public class XapiRow extends PanacheEntityBase {
  @Id
  @Column(length = 64)
  public String ref;

  @Column(length = 32, nullable = false)
  public String cls;

  @Column(length = 64, nullable = false)
  public String uuid;

  @Lob
  @Column(nullable = false)
  public String fields;
}
