package org.xsm.server.db;

import java.util.Map;
import org.xsm.server.model.XClass;

/** One stored record: its reference, class and stored fields (guarded by its own monitor). */
final class Rec {
  final String ref;
  final XClass<?> cls;
  final Map<String, Object> fields;

  Rec(String ref, XClass<?> cls, Map<String, Object> fields) {
    this.ref = ref;
    this.cls = cls;
    this.fields = fields;
  }
}
