package org.xsm.server.message;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.xsm.server.db.Database;
import org.xsm.server.model.Message;
import org.xsm.server.model.MessageClass;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Schema;
import org.xsm.server.model.Values;
import org.xsm.server.model.XClass;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * xapi's messages (alerts about a VM, host, SR, pool or VDI): records of the database, so they are
 * durable, reach {@code event.from} as {@code message} events and are listed like any class.
 */
@ApplicationScoped
public class MessageService {
  @Inject Database db;

  /**
   * {@code message.create}: the object must exist ({@code UUID_INVALID [cls, uuid]} as in xapi,
   * also for classes this server has none of, such as VMPP).
   */
  public Ref<Message> create(String name, long priority, String cls, String objUuid, String body)
      throws XenApiException {
    MessageClass mc = messageClass(cls);
    XClass<?> c = Schema.get(mc.wire());
    if (c == null) {
      throw new XenApiException(XenApiError.UUID_INVALID, mc.wire(), objUuid);
    }
    db.byUuid(c, objUuid);
    return db.create(
        Message.CLASS,
        Values.of(Message.CLASS)
            .with(Message.NAME, name)
            .with(Message.PRIORITY, priority)
            .with(Message.CLS, mc)
            .with(Message.OBJ_UUID, objUuid)
            .with(Message.TIMESTAMP, Instant.now())
            .with(Message.BODY, body));
  }

  static MessageClass messageClass(String cls) throws XenApiException {
    for (MessageClass mc : MessageClass.values()) {
      if (mc.wire().equalsIgnoreCase(cls)) {
        return mc;
      }
    }
    throw new XenApiException(XenApiError.INVALID_VALUE, "cls", String.valueOf(cls));
  }

  public void destroy(Ref<Message> m) throws XenApiException {
    db.destroy(Message.CLASS, m);
  }

  /**
   * {@code message.get}: the object's messages newer than {@code since} (by its uuid index); an
   * object that does not exist is {@code UUID_INVALID} without parameters, as xapi answers.
   */
  public Map<String, Object> about(String cls, String objUuid, Instant since)
      throws XenApiException {
    MessageClass mc = messageClass(cls);
    XClass<?> c = Schema.get(mc.wire());
    try {
      if (c == null) {
        throw new XenApiException(XenApiError.UUID_INVALID);
      }
      db.byUuid(c, objUuid);
    } catch (XenApiException e) {
      throw new XenApiException(XenApiError.UUID_INVALID);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (Ref<Message> m : db.where(Message.OBJ_UUID, objUuid)) {
      Row<Message> r = db.readOrNull(Message.CLASS, m);
      if (r != null && r.get(Message.CLS) == mc && r.get(Message.TIMESTAMP).isAfter(since)) {
        out.put(m.value(), db.wireRecordOrNull(Message.CLASS, m.value()));
      }
    }
    out.values().removeIf(java.util.Objects::isNull);
    return out;
  }

  /**
   * {@code message.get_since}: every message newer than {@code since}. Messages have no index by
   * time, so this reads them all (xapi reads its message files the same way).
   */
  public Map<String, Object> since(Instant since) {
    return matching(r -> r.get(Message.TIMESTAMP).isAfter(since), w -> true);
  }

  /** {@code message.get_all_records_where}. */
  public Map<String, Object> where(String expression) throws XenApiException {
    Predicate<Map<String, Object>> p = WhereExpression.parse(expression);
    return matching(r -> true, p);
  }

  private Map<String, Object> matching(
      Predicate<Row<Message>> row, Predicate<Map<String, Object>> wire) {
    Map<String, Object> out = new LinkedHashMap<>();
    List<Ref<Message>> refs = db.fullScan(Message.CLASS, row);
    for (Ref<Message> m : refs) {
      Map<String, Object> w = db.wireRecordOrNull(Message.CLASS, m.value());
      if (w != null && wire.test(w)) {
        out.put(m.value(), w);
      }
    }
    return out;
  }
}
