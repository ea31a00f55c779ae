package org.xsm.server.blob;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.xsm.server.db.Sql;

/**
 * The bytes of blobs, kept in the server's database next to the records (table {@code xapi_blob}),
 * with the object whose {@code blobs} map names each (empty for a blob made by {@code
 * blob.create}). Each method is one transaction, durable when it returns.
 */
@ApplicationScoped
class BlobContents {
  @Inject Sql sql;

  /** A new, empty content (or an existing one emptied). */
  void create(String ref, String owner) {
    put(ref, owner, new byte[0]);
  }

  /** The bytes, or null when there is no content row. */
  byte[] data(String ref) {
    return sql.tx(
        c -> {
          try (PreparedStatement s =
              c.prepareStatement("SELECT data FROM xapi_blob WHERE ref = ?")) {
            s.setString(1, ref);
            try (ResultSet r = s.executeQuery()) {
              return r.next() ? r.getBytes(1) : null;
            }
          }
        });
  }

  /** Replaces the bytes, keeping the owner (a missing row is made without one). */
  void write(String ref, byte[] data) {
    sql.tx(
        c -> {
          try (PreparedStatement s =
              c.prepareStatement("UPDATE xapi_blob SET data = ? WHERE ref = ?")) {
            s.setBytes(1, data);
            s.setString(2, ref);
            if (s.executeUpdate() == 0) {
              insert(c, ref, "", data);
            }
          }
          return null;
        });
  }

  /** Deletes the content; returns its owner ("" when none or when there was no row). */
  String delete(String ref) {
    return sql.tx(
        c -> {
          String owner = "";
          try (PreparedStatement s =
              c.prepareStatement("SELECT owner FROM xapi_blob WHERE ref = ?")) {
            s.setString(1, ref);
            try (ResultSet r = s.executeQuery()) {
              if (r.next()) {
                owner = r.getString(1);
              }
            }
          }
          try (PreparedStatement d = c.prepareStatement("DELETE FROM xapi_blob WHERE ref = ?")) {
            d.setString(1, ref);
            d.executeUpdate();
          }
          return owner;
        });
  }

  /** Every content's reference. */
  List<String> refs() {
    return sql.tx(
        c -> {
          List<String> out = new ArrayList<>();
          try (Statement s = c.createStatement();
              ResultSet r = s.executeQuery("SELECT ref FROM xapi_blob")) {
            while (r.next()) {
              out.add(r.getString(1));
            }
          }
          return out;
        });
  }

  private void put(String ref, String owner, byte[] data) {
    sql.tx(
        c -> {
          try (PreparedStatement s =
              c.prepareStatement(sql.kind().upsert("xapi_blob", "ref", "owner", "data"))) {
            s.setString(1, ref);
            s.setString(2, owner);
            s.setBytes(3, data);
            s.executeUpdate();
          }
          return null;
        });
  }

  private static void insert(java.sql.Connection c, String ref, String owner, byte[] data)
      throws java.sql.SQLException {
    try (PreparedStatement s =
        c.prepareStatement("INSERT INTO xapi_blob (ref, owner, data) VALUES (?, ?, ?)")) {
      s.setString(1, ref);
      s.setString(2, owner);
      s.setBytes(3, data);
      s.executeUpdate();
    }
  }
}
