package org.xsm.server.rpc;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * XenAPI's datetime text: {@code 20261122T06:01:04Z}, UTC, whole seconds. Both wire formats use it
 * (XML-RPC inside {@code <dateTime.iso8601>}, JSON-RPC as a plain string).
 */
final class XenApiDateTime {
  private static final DateTimeFormatter WIRE =
      DateTimeFormatter.ofPattern("uuuuMMdd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  /**
   * What clients send: basic ({@code 20261122T06:01:04}) or extended ({@code 2026-11-22T06:01:04})
   * date, optional fraction, optional zone. XenAPI.py sends no zone; the Java SDK sends none either
   * (its Apache XML-RPC client is set to UTC).
   */
  private static final Pattern ACCEPTED =
      Pattern.compile(
          "(\\d{4})-?(\\d{2})-?(\\d{2})T(\\d{2}):?(\\d{2}):?(\\d{2})(?:[.,](\\d{1,9}))?"
              + "(Z|[+-]\\d{2}(?::?\\d{2})?)?");

  private XenApiDateTime() {}

  /** Formats {@code instant} in UTC, dropping any fraction of a second. */
  static String format(Instant instant) {
    return WIRE.format(instant.truncatedTo(ChronoUnit.SECONDS));
  }

  private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("uuuuMMdd'T'HH:mm:ss");

  /** A local time ({@code host.get_server_localtime}): the same text without the zone. */
  static String format(LocalDateTime local) {
    return LOCAL.format(local.truncatedTo(ChronoUnit.SECONDS));
  }

  /**
   * Parses the forms in {@link #ACCEPTED}; a value without a zone is UTC, as xapi reads it.
   *
   * @throws IllegalArgumentException if {@code text} is not such a datetime
   */
  static Instant parse(String text) {
    Matcher m = ACCEPTED.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("not an ISO 8601 datetime: " + text);
    }
    try {
      String fraction = m.group(7) == null ? "0" : m.group(7);
      LocalDateTime local =
          LocalDateTime.of(
              Integer.parseInt(m.group(1)),
              Integer.parseInt(m.group(2)),
              Integer.parseInt(m.group(3)),
              Integer.parseInt(m.group(4)),
              Integer.parseInt(m.group(5)),
              Integer.parseInt(m.group(6)),
              Integer.parseInt((fraction + "00000000").substring(0, 9)));
      return local.toInstant(zone(m.group(8)));
    } catch (DateTimeException e) {
      throw new IllegalArgumentException("not a valid datetime: " + text, e);
    }
  }

  private static ZoneOffset zone(String zone) {
    if (zone == null || zone.equals("Z")) {
      return ZoneOffset.UTC;
    }
    String digits = zone.replace(":", "");
    int hours = Integer.parseInt(digits.substring(1, 3));
    int minutes = digits.length() > 3 ? Integer.parseInt(digits.substring(3, 5)) : 0;
    int sign = zone.charAt(0) == '-' ? -1 : 1;
    return ZoneOffset.ofHoursMinutes(sign * hours, sign * minutes);
  }
}
