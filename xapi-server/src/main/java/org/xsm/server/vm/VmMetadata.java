package org.xsm.server.vm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/** A VM's record kept in its snapshot ({@code snapshot_metadata}), as JSON of the wire record. */
final class VmMetadata {
  private static final ObjectMapper JSON = new ObjectMapper();

  private VmMetadata() {}

  static String serialize(Map<String, Object> wireRecord) {
    Map<String, Object> m = new LinkedHashMap<>();
    wireRecord.forEach((k, v) -> m.put(k, v instanceof Instant i ? i.toString() : v));
    try {
      return JSON.writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a VM record could not be written as JSON", e);
    }
  }

  /** The wire record back (times as their ISO strings, which the field coercion parses). */
  static Map<String, Object> deserialize(String s) throws XenApiException {
    try {
      return JSON.readValue(s, new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (JsonProcessingException | RuntimeException e) {
      throw new XenApiException(XenApiError.VM_REVERT_FAILED, "snapshot metadata is unreadable");
    }
  }
}
