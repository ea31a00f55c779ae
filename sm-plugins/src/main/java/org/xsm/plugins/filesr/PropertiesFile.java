package org.xsm.plugins.filesr;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;

/**
 * Small key-value files on an SR (SR identity, VDI metadata, operation logs), written atomically: a
 * temporary file is written and forced, renamed over the target, and the directory synced. A crash
 * leaves the old or the new file, never a mix.
 */
final class PropertiesFile {
  private PropertiesFile() {}

  static void write(ImageStore store, String name, Map<String, String> values) throws IOException {
    writeUnsynced(store, name, values);
    store.syncMetadata();
  }

  /**
   * {@link #write} without the directory sync: the rename is durable only after the caller's {@link
   * ImageStore#syncMetadata()}, which several writes may share. Until then a crash leaves the old
   * file or the new one (and perhaps the temporary file).
   */
  static void writeUnsynced(ImageStore store, String name, Map<String, String> values)
      throws IOException {
    Properties p = new Properties();
    p.putAll(values);
    StringWriter w = new StringWriter();
    p.store(w, null);
    byte[] bytes = w.toString().getBytes(StandardCharsets.ISO_8859_1);
    String tmp = "." + name + ".tmp";
    if (store.exists(tmp)) {
      store.delete(tmp);
    }
    try (ImageFile f = store.create(tmp)) {
      f.writeFully(ByteBuffer.wrap(bytes), 0);
      f.force();
    }
    store.rename(tmp, name);
  }

  /** The values, or null if the file does not exist. */
  static Map<String, String> read(ImageStore store, String name) throws IOException {
    byte[] bytes;
    try (ImageFile f = store.open(name, false)) {
      ByteBuffer b = ByteBuffer.allocate((int) f.size());
      f.readFully(b, 0);
      bytes = b.array();
    } catch (NoSuchFileException e) {
      return null;
    }
    Properties p = new Properties();
    p.load(new StringReader(new String(bytes, StandardCharsets.ISO_8859_1)));
    Map<String, String> m = new TreeMap<>();
    for (String k : p.stringPropertyNames()) {
      m.put(k, p.getProperty(k));
    }
    return m;
  }

  static void deleteIfExists(ImageStore store, String name) throws IOException {
    if (store.exists(name)) {
      store.delete(name);
      store.syncMetadata();
    }
  }
}
