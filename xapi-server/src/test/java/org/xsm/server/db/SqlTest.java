package org.xsm.server.db;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What differs between the two databases, and what is shown of a URL. */
class SqlTest {
  @Test
  void upsertsAreEachEnginesOwn() {
    assertThat(Sql.Kind.H2.upsert("t", "ref", "a", "b"))
        .isEqualTo("MERGE INTO t (ref, a, b) KEY (ref) VALUES (?, ?, ?)");
    assertThat(Sql.Kind.POSTGRESQL.upsert("t", "ref", "a", "b"))
        .isEqualTo(
            "INSERT INTO t (ref, a, b) VALUES (?, ?, ?) ON CONFLICT (ref) DO UPDATE SET"
                + " a = EXCLUDED.a, b = EXCLUDED.b");
  }

  @Test
  void aPasswordInTheUrlIsNeverShown() {
    assertThat(Sql.shown("jdbc:postgresql://db:5432/xsm?user=x&password=s3cret&ssl=true"))
        .isEqualTo("jdbc:postgresql://db:5432/xsm?user=x&password=***&ssl=true");
    assertThat(Sql.shown("jdbc:h2:file:/d/db/xapi;PASSWORD=s3cret;WRITE_DELAY=0"))
        .isEqualTo("jdbc:h2:file:/d/db/xapi;PASSWORD=***;WRITE_DELAY=0");
  }
}
