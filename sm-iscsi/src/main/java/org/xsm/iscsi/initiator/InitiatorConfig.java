package org.xsm.iscsi.initiator;

import java.time.Duration;
import java.util.Objects;

/**
 * Where and how the initiator logs in.
 *
 * @param host the target portal's host name or address
 * @param port the portal's TCP port (3260 by default)
 * @param targetIqn the target to log in to; null for discovery sessions
 * @param initiatorIqn this initiator's name (iqn.... form)
 * @param chapUser the CHAP name, or null for no authentication
 * @param chapSecret the CHAP secret (12 to 16 characters for most targets), or null
 * @param commandTimeout how long a command may wait for its answer before the connection is
 *     considered dead, closed and the command retried on a new one
 * @param reconnectTimeout how long the session keeps trying to log in again after losing its
 *     connection before it fails the commands waiting for it
 * @param maxCommandsInFlight how many SCSI commands one session keeps outstanding at once
 */
public record InitiatorConfig(
    String host,
    int port,
    String targetIqn,
    String initiatorIqn,
    String chapUser,
    String chapSecret,
    Duration commandTimeout,
    Duration reconnectTimeout,
    int maxCommandsInFlight) {

  /** The IANA iSCSI port. */
  public static final int DEFAULT_PORT = 3260;

  /** The default initiator name of this implementation. */
  public static final String DEFAULT_INITIATOR_IQN = "iqn.2024-01.org.xsm:initiator";

  public InitiatorConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(initiatorIqn, "initiatorIqn");
    Objects.requireNonNull(commandTimeout, "commandTimeout");
    Objects.requireNonNull(reconnectTimeout, "reconnectTimeout");
    if (port <= 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is outside 1..65535");
    }
    if ((chapUser == null) != (chapSecret == null)) {
      throw new IllegalArgumentException("CHAP needs both a user and a secret, or neither");
    }
    if (maxCommandsInFlight < 1) {
      throw new IllegalArgumentException("maxCommandsInFlight must be at least 1");
    }
  }

  /** A configuration with default timeouts (30 s per command, 60 s to reconnect), 8 in flight. */
  public static InitiatorConfig of(String host, int port, String targetIqn) {
    return new InitiatorConfig(
        host,
        port,
        targetIqn,
        DEFAULT_INITIATOR_IQN,
        null,
        null,
        Duration.ofSeconds(30),
        Duration.ofSeconds(60),
        8);
  }

  /**
   * Parses a portal {@code host[:port]}; IPv6 literals in brackets ({@code [::1]:3260}).
   *
   * @throws IllegalArgumentException for a malformed portal
   */
  public static InitiatorConfig forPortal(String portal, String targetIqn) {
    String host = portal.trim();
    String portText = null;
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("portal \"" + portal + "\" has an unclosed [");
      }
      if (close + 1 < host.length()) {
        if (host.charAt(close + 1) != ':') {
          throw new IllegalArgumentException("portal \"" + portal + "\" is malformed");
        }
        portText = host.substring(close + 2);
      }
      host = host.substring(1, close);
    } else if (host.indexOf(':') >= 0 && host.indexOf(':') == host.lastIndexOf(':')) {
      portText = host.substring(host.indexOf(':') + 1);
      host = host.substring(0, host.indexOf(':'));
    }
    int port = DEFAULT_PORT;
    if (portText != null) {
      try {
        port = Integer.parseInt(portText);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("portal \"" + portal + "\" has a bad port", e);
      }
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("portal \"" + portal + "\" has no host");
    }
    return of(host, port, targetIqn);
  }

  public InitiatorConfig withChap(String user, String secret) {
    return new InitiatorConfig(
        host,
        port,
        targetIqn,
        initiatorIqn,
        user,
        secret,
        commandTimeout,
        reconnectTimeout,
        maxCommandsInFlight);
  }

  public InitiatorConfig withTarget(String iqn) {
    return new InitiatorConfig(
        host,
        port,
        iqn,
        initiatorIqn,
        chapUser,
        chapSecret,
        commandTimeout,
        reconnectTimeout,
        maxCommandsInFlight);
  }

  public InitiatorConfig withTimeouts(Duration command, Duration reconnect) {
    return new InitiatorConfig(
        host,
        port,
        targetIqn,
        initiatorIqn,
        chapUser,
        chapSecret,
        command,
        reconnect,
        maxCommandsInFlight);
  }

  /** {@code host:port}, for messages. */
  public String portal() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
