package org.xsm.nfs;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.xsm.nfs.client.FileAttributes;
import org.xsm.nfs.client.FileHandle;
import org.xsm.nfs.client.Nfs3Client;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.StoreEntry;

/**
 * An {@link ImageStore} over one directory of an NFSv3 export, spoken to directly with {@link
 * Nfs3Client}.
 *
 * <p>Durability mapping of the store contract onto NFSv3 (RFC 1813):
 *
 * <ul>
 *   <li>File data is written UNSTABLE and made durable by {@link ImageFile#force()}, a COMMIT whose
 *       write verifier is compared with the verifier of every WRITE since the previous COMMIT; a
 *       changed verifier means the server restarted and may have lost them, and those writes are
 *       sent again FILE_SYNC from the buffers the file keeps until then (see {@link NfsImageFile}).
 *   <li>CREATE, REMOVE, RENAME, MKDIR and SETATTR are synchronous in NFSv3: the server commits them
 *       to stable storage before it replies (RFC 1813 section 3.3, "the server must ... before
 *       returning"). {@link #syncMetadata()} therefore has nothing left to flush and only checks
 *       that the directory is still reachable, so a lost server fails it instead of passing.
 *   <li>{@link #create} is CREATE EXCLUSIVE with a random verifier: exactly once even if the call
 *       is retransmitted after a reconnect (a GUARDED create could see its own first attempt as
 *       EXIST).
 *   <li>RENAME is atomic on the server and replaces the target, as {@link ImageStore#rename}
 *       requires.
 * </ul>
 *
 * <p>Thread-safe: it holds only immutable state; every call is an RPC.
 */
public final class NfsImageStore implements ImageStore {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final NfsMount mount;
  private final FileHandle dir;
  private final String location;

  NfsImageStore(NfsMount mount, FileHandle dir, String location) {
    this.mount = mount;
    this.dir = dir;
    this.location = location;
  }

  /** The export this store is on. */
  public NfsMount mount() {
    return mount;
  }

  private Nfs3Client client() {
    return mount.client();
  }

  private static String check(String name) {
    if (name.isEmpty()
        || name.indexOf('/') >= 0
        || name.indexOf('\0') >= 0
        || name.equals(".")
        || name.equals("..")) {
      throw new IllegalArgumentException("not a plain file name: '" + name + "'");
    }
    return name;
  }

  @Override
  public ImageFile create(String name) throws IOException {
    Nfs3Client.Entry e = client().createExclusive(dir, check(name), RANDOM.nextLong(), 0644);
    return new NfsImageFile(mount, e.handle(), name, true);
  }

  @Override
  public ImageFile open(String name, boolean writable) throws IOException {
    Nfs3Client.Entry e = client().lookup(dir, check(name));
    FileAttributes a = e.attributes() != null ? e.attributes() : client().getattr(e.handle());
    if (!a.isRegular()) {
      throw new NoSuchFileException(describe(name), null, "not a regular file");
    }
    return new NfsImageFile(mount, e.handle(), name, writable);
  }

  @Override
  public boolean exists(String name) throws IOException {
    return client().lookupOrNull(dir, check(name)) != null;
  }

  @Override
  public void rename(String from, String to) throws IOException {
    client().rename(dir, check(from), dir, check(to));
  }

  @Override
  public void delete(String name) throws IOException {
    client().remove(dir, check(name));
  }

  @Override
  public List<String> list() throws IOException {
    List<String> names = new ArrayList<>();
    for (Nfs3Client.Entry e : client().readdirplus(dir)) {
      FileAttributes a = e.attributes();
      if (a == null ? isRegular(e.name()) : a.isRegular()) {
        names.add(e.name());
      }
    }
    return names;
  }

  /**
   * One READDIRPLUS: each entry's size and modification time come with the listing (an entry the
   * server sent without attributes costs a GETATTR).
   */
  @Override
  public List<StoreEntry> listEntries() throws IOException {
    List<StoreEntry> out = new ArrayList<>();
    for (Nfs3Client.Entry e : client().readdirplus(dir)) {
      FileAttributes a = e.attributes();
      if (a == null) {
        Nfs3Client.Entry looked = client().lookupOrNull(dir, e.name());
        a = looked == null ? null : client().getattr(looked.handle());
      }
      if (a != null && a.isRegular()) {
        out.add(new StoreEntry(e.name(), a.sizeBytes(), a.mtimeNanos()));
      }
    }
    return out;
  }

  @Override
  public StoreEntry entry(String name) throws IOException {
    Nfs3Client.Entry e = client().lookupOrNull(dir, name);
    FileAttributes a = e == null ? null : client().getattr(e.handle());
    if (a == null || !a.isRegular()) {
      throw new NoSuchFileException(describe(name), null, "not a regular file");
    }
    return new StoreEntry(name, a.sizeBytes(), a.mtimeNanos());
  }

  private boolean isRegular(String name) throws IOException {
    Nfs3Client.Entry e = client().lookupOrNull(dir, name);
    return e != null && client().getattr(e.handle()).isRegular();
  }

  /** Names of the subdirectories. */
  public List<String> directories() throws IOException {
    List<String> names = new ArrayList<>();
    for (Nfs3Client.Entry e : client().readdirplus(dir)) {
      if (e.attributes() != null && e.attributes().isDirectory()) {
        names.add(e.name());
      }
    }
    return names;
  }

  @Override
  public void syncMetadata() throws IOException {
    // Directory operations were committed by the server before it answered (see class javadoc).
    client().getattr(dir);
  }

  @Override
  public long capacityBytes() throws IOException {
    return client().fsstat(dir).totalBytes();
  }

  @Override
  public long freeBytes() throws IOException {
    return client().fsstat(dir).availableBytes();
  }

  @Override
  public String describe(String name) {
    return name.isEmpty() ? location : location + "/" + name;
  }

  @Override
  public String toString() {
    return "NfsImageStore[" + location + "]";
  }
}
