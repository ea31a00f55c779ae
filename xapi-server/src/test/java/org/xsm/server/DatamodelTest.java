package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Connection;
import io.quarkus.test.junit.QuarkusTest;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.xsm.server.model.Schema;
import org.xsm.server.model.XClass;

/**
 * Every record of every class the Java SDK 8.1.0 has (those a pool of this kind keeps) carries
 * every field of the SDK's own record: read through the SDK, whose {@code Types.toXRecord} leaves a
 * field null when its key is missing and throws when its type is wrong.
 */
@QuarkusTest
class DatamodelTest extends SdkTest {
  /** The SDK's class names with their wire names. */
  static final Map<String, String> CLASSES =
      Map.ofEntries(
          Map.entry("Pool", "pool"),
          Map.entry("Host", "host"),
          Map.entry("HostMetrics", "host_metrics"),
          Map.entry("SR", "SR"),
          Map.entry("PBD", "PBD"),
          Map.entry("VDI", "VDI"),
          Map.entry("VBD", "VBD"),
          Map.entry("VM", "VM"),
          Map.entry("VMMetrics", "VM_metrics"),
          Map.entry("VMGuestMetrics", "VM_guest_metrics"),
          Map.entry("VIF", "VIF"),
          Map.entry("Network", "network"),
          Map.entry("PIF", "PIF"),
          Map.entry("SM", "SM"),
          Map.entry("Message", "message"),
          Map.entry("Console", "console"),
          Map.entry("Blob", "blob"),
          Map.entry("PoolUpdate", "pool_update"),
          Map.entry("User", "user"),
          Map.entry("Role", "role"),
          Map.entry("Subject", "subject"),
          Map.entry("Secret", "secret"),
          Map.entry("VGPU", "VGPU"),
          Map.entry("VTPM", "VTPM"),
          Map.entry("Task", "task"),
          Map.entry("Session", "session"));

  static Class<?> sdk(String name) throws ClassNotFoundException {
    return Class.forName("com.xensource.xenapi." + name);
  }

  /** The wire names of an SDK record's fields, from the SDK's own {@code Record.toMap}. */
  @SuppressWarnings("unchecked")
  static TreeSet<String> sdkFields(String name) throws Exception {
    Class<?> rec = sdk(name + "$Record");
    Map<String, Object> m =
        (Map<String, Object>) rec.getMethod("toMap").invoke(rec.getConstructor().newInstance());
    return new TreeSet<>(m.keySet());
  }

  @Test
  void theSchemaDeclaresEverySdkField() throws Exception {
    List<String> missing = new ArrayList<>();
    for (var e : CLASSES.entrySet()) {
      XClass<?> cls = Schema.get(e.getValue());
      assertThat(cls).as("class %s", e.getValue()).isNotNull();
      for (String f : sdkFields(e.getKey())) {
        if (!cls.has(f)) {
          missing.add(e.getValue() + "." + f);
        }
      }
    }
    assertThat(missing).isEmpty();
  }

  @Test
  void everyRecordReadThroughTheSdkHasEveryField() throws Exception {
    List<String> missing = new ArrayList<>();
    int records = 0;
    for (String name : CLASSES.keySet()) {
      if (name.equals("Session") || name.equals("Task")) {
        continue; // xapi has no session.get_all_records; tasks come and go
      }
      Method all;
      try {
        all = sdk(name).getMethod("getAllRecords", Connection.class);
      } catch (NoSuchMethodException e) {
        continue; // the SDK has no get_all_records for it (user, VTPM)
      }
      Map<?, ?> recs = (Map<?, ?>) all.invoke(null, c);
      for (Object r : recs.values()) {
        records++;
        for (Field f : r.getClass().getFields()) {
          if (!Modifier.isStatic(f.getModifiers()) && f.get(r) == null) {
            missing.add(name + "." + f.getName());
          }
        }
      }
    }
    assertThat(records).isPositive();
    assertThat(new TreeSet<>(missing)).isEmpty();
    // This session's own record, read the way XenCenter reads it.
    com.xensource.xenapi.Session s = com.xensource.xenapi.Types.toSession(c.getSessionReference());
    for (Field f : com.xensource.xenapi.Session.Record.class.getFields()) {
      if (!Modifier.isStatic(f.getModifiers())) {
        assertThat(f.get(s.getRecord(c))).as("session.%s", f.getName()).isNotNull();
      }
    }
  }
}
