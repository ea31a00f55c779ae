package org.xsm.server;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * Network namespaces joined by a bridge, made by a test (as root, with {@code ip}): each namespace
 * is a host with its own address on the bridge's /24, which the test (in the root namespace)
 * reaches at the bridge's address {@code .1}. Names and the subnet are random, so that concurrent
 * runs do not meet; {@link #close} removes everything.
 */
final class TestNetwork implements AutoCloseable {
  private final String prefix;
  private final String subnet;
  private final List<String> namespaces = new ArrayList<>();

  private TestNetwork(String prefix, String subnet) {
    this.prefix = prefix;
    this.subnet = subnet;
  }

  /** Whether this machine can make namespaces: root and the ip command. */
  static boolean available() {
    try {
      return "root".equals(System.getProperty("user.name"))
          && ChildProcess.run(List.of("ip", "netns", "list"), null, 30).exit() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  static TestNetwork create() throws Exception {
    SecureRandom r = new SecureRandom();
    String prefix = "xp" + Integer.toHexString(0x1000 + r.nextInt(0xefff));
    String subnet = "10." + (200 + r.nextInt(50)) + "." + r.nextInt(250);
    TestNetwork n = new TestNetwork(prefix, subnet);
    try {
      n.ip("link", "add", n.bridge(), "type", "bridge");
      n.ip("addr", "add", n.gateway() + "/24", "dev", n.bridge());
      n.ip("link", "set", n.bridge(), "up");
    } catch (Exception e) {
      n.close();
      throw e;
    }
    return n;
  }

  private String bridge() {
    return prefix + "br";
  }

  /** The address of the test's side (the root namespace), where servers reach it. */
  String gateway() {
    return subnet + ".1";
  }

  /** The network in CIDR notation. */
  String cidr() {
    return subnet + ".0/24";
  }

  /** Makes host {@code i} (1..): its namespace's name; its address is {@link #address}. */
  String addHost(int i) throws Exception {
    String ns = prefix + "-h" + i;
    String outside = prefix + "h" + i;
    String inside = prefix + "h" + i + "p";
    ip("netns", "add", ns);
    namespaces.add(ns);
    ip("link", "add", outside, "type", "veth", "peer", "name", inside);
    ip("link", "set", inside, "netns", ns);
    ip("link", "set", outside, "master", bridge());
    ip("link", "set", outside, "up");
    ip("-n", ns, "addr", "add", address(i) + "/24", "dev", inside);
    ip("-n", ns, "link", "set", inside, "up");
    ip("-n", ns, "link", "set", "lo", "up");
    return ns;
  }

  /** Host {@code i}'s address. */
  String address(int i) {
    return subnet + "." + (10 + i);
  }

  /** A command run in host {@code ns}'s namespace. */
  static List<String> in(String ns, List<String> command) {
    List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    c.addAll(command);
    return c;
  }

  private void ip(String... args) throws Exception {
    List<String> c = new ArrayList<>(List.of("ip"));
    c.addAll(List.of(args));
    ChildProcess.Result r = ChildProcess.run(c, null, 30);
    if (r.exit() != 0) {
      throw new IOException(String.join(" ", c) + " failed: " + r.output());
    }
  }

  @Override
  public void close() throws Exception {
    for (String ns : namespaces) {
      ChildProcess.run(List.of("ip", "netns", "delete", ns), null, 30); // removes its veth pair
    }
    ChildProcess.run(List.of("ip", "link", "delete", bridge()), null, 30);
  }
}
