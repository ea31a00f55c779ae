package org.xsm.plugins.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * An in-memory {@link ImageStore} for fault tests that models a power cut.
 *
 * <p>Each file keeps its durable content (as of its last {@link ImageFile#force()}) and the writes
 * and truncates since. {@link #crashAfter(int)} makes the n-th mutating call from now (write,
 * truncate, force, create, rename, delete, syncMetadata) and every call after it fail, as if the
 * machine stopped there. {@link #afterCrash(Random)} then gives the store as it could be found
 * after reboot: durable content plus a random choice, per unforced write, of dropping it, applying
 * it, or applying only some of its 512-byte sectors (a torn write); unforced truncates are applied
 * or dropped.
 *
 * <p>Directory operations (create, rename, delete) are durable at once: the code under test syncs
 * the directory right after them anyway, and file contents are where the ordering bugs live.
 */
public final class CrashingImageStore implements ImageStore {
  private final Map<String, MemFile> files = new HashMap<>();
  private int remaining = Integer.MAX_VALUE;
  private int mutations;

  /** Fails the {@code n}-th mutating call from now (0: the very next one) and all later calls. */
  public void crashAfter(int n) {
    remaining = n;
  }

  /** How many mutating calls have been made. */
  public int mutations() {
    return mutations;
  }

  /** Whether the simulated crash has happened. */
  public boolean crashed() {
    return remaining < 0;
  }

  private void step() throws IOException {
    if (remaining < 0 || remaining-- == 0) {
      remaining = -1;
      throw new IOException("simulated crash");
    }
    mutations++;
  }

  private void checkAlive() throws IOException {
    if (remaining < 0) {
      throw new IOException("simulated crash");
    }
  }

  /** The store as found after a reboot, with unforced writes kept, dropped or torn at random. */
  public CrashingImageStore afterCrash(Random rnd) {
    CrashingImageStore s = new CrashingImageStore();
    for (Map.Entry<String, MemFile> e : files.entrySet()) {
      s.files.put(e.getKey(), e.getValue().survivor(rnd));
    }
    return s;
  }

  /** A copy with everything written so far durable (as after a clean shutdown). */
  public CrashingImageStore copy() {
    CrashingImageStore s = new CrashingImageStore();
    for (Map.Entry<String, MemFile> e : files.entrySet()) {
      MemFile m = new MemFile();
      m.current = Arrays.copyOf(e.getValue().current, e.getValue().length);
      m.length = e.getValue().length;
      m.durable = m.current.clone();
      s.files.put(e.getKey(), m);
    }
    return s;
  }

  /** The current bytes of a file. */
  public synchronized byte[] bytes(String name) {
    MemFile m = files.get(name);
    return Arrays.copyOf(m.current, m.length);
  }

  @Override
  public synchronized ImageFile create(String name) throws IOException {
    step();
    if (files.containsKey(name)) {
      throw new FileAlreadyExistsException(name);
    }
    MemFile m = new MemFile();
    files.put(name, m);
    return new Handle(name, m, true);
  }

  @Override
  public synchronized ImageFile open(String name, boolean writable) throws IOException {
    checkAlive();
    MemFile m = files.get(name);
    if (m == null) {
      throw new NoSuchFileException(name);
    }
    return new Handle(name, m, writable);
  }

  @Override
  public synchronized boolean exists(String name) throws IOException {
    checkAlive();
    return files.containsKey(name);
  }

  @Override
  public synchronized void rename(String from, String to) throws IOException {
    step();
    MemFile m = files.remove(from);
    if (m == null) {
      throw new NoSuchFileException(from);
    }
    files.put(to, m);
  }

  @Override
  public synchronized void delete(String name) throws IOException {
    step();
    if (files.remove(name) == null) {
      throw new NoSuchFileException(name);
    }
  }

  @Override
  public synchronized List<String> list() throws IOException {
    checkAlive();
    return new ArrayList<>(files.keySet());
  }

  @Override
  public synchronized void syncMetadata() throws IOException {
    step();
  }

  @Override
  public String describe(String name) {
    return "mem:" + name;
  }

  private static final class MemFile {
    byte[] current = new byte[0];
    int length;
    byte[] durable = new byte[0];
    final List<Object[]> pending = new ArrayList<>(); // {offset(Long), bytes} or {length(Long)}

    void ensure(long size) {
      if (size > current.length) {
        current = Arrays.copyOf(current, (int) Math.max(size, current.length * 3L / 2));
      }
    }

    MemFile survivor(Random rnd) {
      MemFile m = new MemFile();
      byte[] img = durable.clone();
      int len = durable.length;
      for (Object[] p : pending) {
        if (p.length == 1) {
          if (rnd.nextBoolean()) {
            int newLen = (int) (long) (Long) p[0];
            img = Arrays.copyOf(img, newLen);
            len = newLen;
          }
          continue;
        }
        long off = (Long) p[0];
        byte[] data = (byte[]) p[1];
        int mode = rnd.nextInt(4);
        if (mode == 0) {
          continue;
        }
        for (int i = 0; i < data.length; ) {
          int sectorEnd = (int) Math.min(data.length, ((off + i) / 512 + 1) * 512 - off);
          boolean keep = mode == 1 || (mode == 2 ? i < data.length / 2 : rnd.nextBoolean());
          if (keep) {
            long end = off + sectorEnd;
            if (end > img.length) {
              img = Arrays.copyOf(img, (int) end);
            }
            System.arraycopy(data, i, img, (int) (off + i), sectorEnd - i);
            len = (int) Math.max(len, end);
          }
          i = sectorEnd;
        }
      }
      m.current = Arrays.copyOf(img, len);
      m.length = len;
      m.durable = m.current.clone();
      return m;
    }
  }

  private final class Handle implements ImageFile {
    private final String name;
    private final MemFile m;
    private final boolean writable;

    Handle(String name, MemFile m, boolean writable) {
      this.name = name;
      this.m = m;
      this.writable = writable;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      synchronized (CrashingImageStore.this) {
        checkAlive();
        if (position >= m.length) {
          return -1;
        }
        int n = (int) Math.min(dst.remaining(), m.length - position);
        dst.put(m.current, (int) position, n);
        return n;
      }
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      synchronized (CrashingImageStore.this) {
        if (!writable) {
          throw new java.nio.channels.NonWritableChannelException();
        }
        step();
        int n = src.remaining();
        byte[] data = new byte[n];
        src.get(data);
        m.ensure(position + n);
        System.arraycopy(data, 0, m.current, (int) position, n);
        m.length = (int) Math.max(m.length, position + n);
        m.pending.add(new Object[] {position, data});
        return n;
      }
    }

    @Override
    public long size() throws IOException {
      synchronized (CrashingImageStore.this) {
        checkAlive();
        return m.length;
      }
    }

    @Override
    public void truncate(long sizeBytes) throws IOException {
      synchronized (CrashingImageStore.this) {
        step();
        m.ensure(sizeBytes);
        if (sizeBytes < m.length) {
          Arrays.fill(m.current, (int) sizeBytes, m.length, (byte) 0);
        }
        m.length = (int) sizeBytes;
        m.pending.add(new Object[] {sizeBytes});
      }
    }

    @Override
    public void force() throws IOException {
      synchronized (CrashingImageStore.this) {
        step();
        m.durable = Arrays.copyOf(m.current, m.length);
        m.pending.clear();
      }
    }

    @Override
    public void close() {}
  }
}
