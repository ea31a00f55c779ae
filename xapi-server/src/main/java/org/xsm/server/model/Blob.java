package org.xsm.server.model;

import static org.xsm.server.model.Field.Access.RO;
import static org.xsm.server.model.Field.Access.RW;

import java.time.Instant;

/** The XenAPI class {@code blob}. */
public final class Blob {
  private Blob() {}

  public static final XClass<Blob> CLASS = new XClass<>("blob");
  public static final Field<Blob, String> UUID = CLASS.uuid();
  public static final Field<Blob, String> NAME_LABEL = CLASS.indexedString("name_label", RW);
  public static final Field<Blob, String> NAME_DESCRIPTION = CLASS.string("name_description", RW);
  public static final Field<Blob, Long> SIZE = CLASS.integer("size", RO);
  public static final Field<Blob, Boolean> PUBLIC = CLASS.bool("public", RW);
  public static final Field<Blob, Instant> LAST_UPDATED = CLASS.datetime("last_updated", RO);
  public static final Field<Blob, String> MIME_TYPE = CLASS.string("mime_type", RO);
}
