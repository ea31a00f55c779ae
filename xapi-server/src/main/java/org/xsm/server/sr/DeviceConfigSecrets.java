package org.xsm.server.sr;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.Map;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Secret;
import org.xsm.server.model.Values;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * Passwords in a PBD's {@code device_config} are kept as xapi keeps them: as {@code secret}
 * objects, the record holding only {@code <key>_secret: <secret uuid>} (xapi's clean_out_passwds).
 * A client may also give {@code <key>_secret} itself. Drivers get the clear value under the plain
 * key when the SR is plugged, and nowhere else: no record, event or log carries it. A PBD's secrets
 * go with it.
 */
@ApplicationScoped
public class DeviceConfigSecrets {
  static final String SUFFIX = "_secret";

  @Inject Database db;

  /** Keys that hold a password (xapi: any key ending in "password", in any case). */
  static boolean isPassword(String key) {
    return key.toLowerCase(java.util.Locale.ROOT).endsWith("password");
  }

  /** The device config to store: every password moved into a new secret. */
  public Map<String, String> protect(Map<String, String> dc) throws XenApiException {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : dc.entrySet()) {
      if (isPassword(e.getKey()) && !e.getValue().isEmpty()) {
        Ref<Secret> s =
            db.create(Secret.CLASS, Values.of(Secret.CLASS).with(Secret.VALUE, e.getValue()));
        out.put(e.getKey() + SUFFIX, db.get(s, Secret.UUID));
      } else {
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
  }

  /** The device config a driver gets: each {@code <key>_secret} resolved to {@code <key>}. */
  public Map<String, String> reveal(Map<String, String> dc) throws XenApiException {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : dc.entrySet()) {
      String k = e.getKey();
      if (k.endsWith(SUFFIX)) {
        Ref<Secret> s = secret(e.getValue());
        out.put(k.substring(0, k.length() - SUFFIX.length()), db.get(s, Secret.VALUE));
      } else {
        out.put(k, e.getValue());
      }
    }
    return out;
  }

  private Ref<Secret> secret(String uuid) throws XenApiException {
    var found = db.where(Secret.UUID, uuid);
    if (found.isEmpty()) {
      throw new XenApiException(XenApiError.UUID_INVALID, "secret", uuid);
    }
    return found.get(0);
  }

  /** Drops the secrets a device config refers to (its PBD is going). */
  public void forget(Map<String, String> dc) throws XenApiException {
    forgetExcept(dc, Map.of());
  }

  /** Drops the secrets {@code old} refers to that {@code kept} does not (a config replaced). */
  public void forgetExcept(Map<String, String> old, Map<String, String> kept)
      throws XenApiException {
    for (Map.Entry<String, String> e : old.entrySet()) {
      if (e.getKey().endsWith(SUFFIX) && !kept.containsValue(e.getValue())) {
        for (Ref<Secret> s : db.where(Secret.UUID, e.getValue())) {
          db.destroy(Secret.CLASS, s);
        }
      }
    }
  }
}
