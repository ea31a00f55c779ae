package org.xsm.server.db;

import java.util.Map;
import org.xsm.server.model.Field;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Values;
import org.xsm.server.model.XClass;

/**
 * The database's {@link Row}: stored fields from the copy taken under the record's lock; computed
 * relation fields (VM.VBDs) read from the index when asked.
 */
final class DbRow<C> implements Row<C> {
  private final Database db;
  private final XClass<C> cls;
  private final Ref<C> ref;
  private final Map<String, Object> stored;

  DbRow(Database db, XClass<C> cls, Ref<C> ref, Map<String, Object> stored) {
    this.db = db;
    this.cls = cls;
    this.ref = ref;
    this.stored = stored;
  }

  @Override
  public Ref<C> ref() {
    return ref;
  }

  @Override
  public XClass<C> cls() {
    return cls;
  }

  @Override
  public <T> T get(Field<C, T> f) {
    if (f.computed()) {
      return f.decode(db.inverse(f, ref.value()));
    }
    return f.decode(stored.get(f.name()));
  }

  /** Every stored field, as stored (a copy). */
  @Override
  public Values<C> storedValues() {
    Values<C> v = Values.of(cls);
    stored.forEach(v::putStored);
    return v;
  }
}
