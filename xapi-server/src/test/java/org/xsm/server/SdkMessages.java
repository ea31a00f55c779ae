package org.xsm.server;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.xsm.server.rpc.Dispatcher;

/**
 * The XenAPI messages of a class of the Java SDK 8.1.0, read from the wire names in its bytecode's
 * constant pool (each SDK method holds its message's name as a string constant), and the messages
 * the server answers. The oracle is the SDK itself, not a list written here.
 */
final class SdkMessages {
  private SdkMessages() {}

  /** SDK class name to XenAPI class name, where they differ. */
  private static final Map<String, String> WIRE =
      Map.of("Console", "console", "VMMetrics", "VM_metrics", "VMGuestMetrics", "VM_guest_metrics");

  /** The synchronous messages of SDK class {@code com.xensource.xenapi.<sdkClass>}. */
  static Set<String> of(String sdkClass) throws IOException {
    String prefix = WIRE.getOrDefault(sdkClass, sdkClass) + ".";
    Set<String> out = new TreeSet<>();
    String resource = "/com/xensource/xenapi/" + sdkClass + ".class";
    try (InputStream raw = SdkMessages.class.getResourceAsStream(resource)) {
      if (raw == null) {
        throw new IOException("the SDK has no " + resource);
      }
      DataInputStream in = new DataInputStream(raw);
      in.readInt(); // magic
      in.readUnsignedShort(); // minor
      in.readUnsignedShort(); // major
      int count = in.readUnsignedShort();
      for (int i = 1; i < count; i++) {
        int tag = in.readUnsignedByte();
        switch (tag) {
          case 1 -> {
            String s = in.readUTF();
            if (s.startsWith(prefix)
                && !s.endsWith(".java")
                && s.substring(prefix.length()).matches("[A-Za-z0-9_]+")) {
              out.add(s);
            }
          }
          case 3, 4, 9, 10, 11, 12, 17, 18 -> in.skipBytes(4);
          case 5, 6 -> {
            in.skipBytes(8);
            i++; // a long or double takes two entries
          }
          case 7, 8, 16, 19, 20 -> in.skipBytes(2);
          case 15 -> in.skipBytes(3);
          default -> throw new IOException("unknown constant pool tag " + tag + " in " + resource);
        }
      }
    }
    return out;
  }

  /** The messages the server lists (system.listMethods). */
  static Set<String> registered(Dispatcher d) {
    return new TreeSet<>(d.listMethods());
  }
}
