package org.xsm.server.session;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import org.xsm.server.db.Sql;

/** The local users' credentials, in the server's database (table {@code xsm_credential}). */
@ApplicationScoped
public class Credentials {
  @Inject Sql sql;

  /** The user's credential, or null. */
  public Credential find(String name) {
    return sql.tx(
        c -> {
          try (PreparedStatement s =
              c.prepareStatement("SELECT salt, hash, role FROM xsm_credential WHERE name = ?")) {
            s.setString(1, name);
            try (ResultSet r = s.executeQuery()) {
              return r.next()
                  ? new Credential(name, r.getString(1), r.getString(2), r.getString(3))
                  : null;
            }
          }
        });
  }

  /** Creates or replaces a credential; durable when this returns. */
  public void save(Credential cred) {
    sql.tx(
        c -> {
          try (PreparedStatement s =
              c.prepareStatement(
                  sql.kind().upsert("xsm_credential", "name", "salt", "hash", "role"))) {
            s.setString(1, cred.name());
            s.setString(2, cred.salt());
            s.setString(3, cred.hash());
            s.setString(4, cred.role());
            s.executeUpdate();
          }
          return null;
        });
  }
}
