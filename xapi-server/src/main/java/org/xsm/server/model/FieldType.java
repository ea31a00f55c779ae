package org.xsm.server.model;

/** XenAPI field types, as the wire represents them. */
public enum FieldType {
  STRING,
  INT,
  FLOAT,
  BOOL,
  DATETIME,
  ENUM,
  REF,
  STRING_SET,
  REF_SET,
  MAP
}
