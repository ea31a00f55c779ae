package org.xsm.server.api;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The wire messages a class of the Java SDK calls, read from the string constants of its class file
 * (the SDK writes each call as a literal such as {@code "VM.get_record"}). A minimal reader of the
 * class-file constant pool (JVMS 4.4), enough to list those literals.
 */
public final class SdkMessages {
  private SdkMessages() {}

  /** The messages of SDK class {@code sdkName} whose wire class is {@code wire}, sorted. */
  public static TreeSet<String> of(String sdkName, String wire) throws IOException {
    Pattern p = Pattern.compile("(Async\\.)?" + Pattern.quote(wire) + "\\.[A-Za-z0-9_]+");
    TreeSet<String> out = new TreeSet<>();
    String resource = "/com/xensource/xenapi/" + sdkName + ".class";
    try (InputStream in = SdkMessages.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("no SDK class " + resource);
      }
      for (String s : stringConstants(new DataInputStream(in))) {
        if (p.matcher(s).matches()) {
          out.add(s);
        }
      }
    }
    return out;
  }

  static List<String> stringConstants(DataInputStream in) throws IOException {
    if (in.readInt() != 0xCAFEBABE) {
      throw new IOException("not a class file");
    }
    in.readUnsignedShort();
    in.readUnsignedShort();
    int count = in.readUnsignedShort();
    String[] utf8 = new String[count];
    List<Integer> strings = new ArrayList<>();
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> utf8[i] = in.readUTF();
        case 8 -> strings.add(in.readUnsignedShort());
        case 7, 16, 19, 20 -> in.readUnsignedShort();
        case 15 -> in.skipNBytes(3);
        case 3, 4, 9, 10, 11, 12, 17, 18 -> in.skipNBytes(4);
        case 5, 6 -> {
          in.skipNBytes(8);
          i++; // eight-byte constants take two slots
        }
        default -> throw new IOException("unknown constant tag " + tag + " at " + i);
      }
    }
    List<String> out = new ArrayList<>();
    for (int idx : strings) {
      out.add(utf8[idx]);
    }
    return out;
  }
}
