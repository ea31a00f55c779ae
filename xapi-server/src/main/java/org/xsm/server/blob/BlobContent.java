package org.xsm.server.blob;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Lob;
import jakarta.persistence.Table;

/**
 * The bytes of a blob, kept in the server's database next to the records ({@code xapi_blob}), and
 * the object whose {@code blobs} map names it (empty for a blob made by {@code blob.create}).
 */
@Entity
@Table(name = "xapi_blob")
public class BlobContent extends PanacheEntityBase {
  @Id
  @Column(length = 64)
  public String ref;

  @Column(length = 64, nullable = false)
  public String owner = "";

  @Lob
  @Column(nullable = false)
  public byte[] data = new byte[0];
}
