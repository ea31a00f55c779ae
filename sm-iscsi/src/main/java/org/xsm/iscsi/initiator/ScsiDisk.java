package org.xsm.iscsi.initiator;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A direct-access SCSI logical unit reached through an {@link IscsiSession}: byte-addressed reads
 * and writes split into READ/WRITE (16) commands (READ/WRITE (10) if the target refuses the 16-byte
 * forms) of at most {@value #CHUNK_BYTES} bytes, several in flight at once.
 *
 * <p>Unaligned writes read the partial blocks at their ends, merge and write whole blocks. They
 * hold an exclusive lock while doing so, and aligned writes a shared one, so that an aligned write
 * cannot slip between the read and the write of a merge and be lost.
 *
 * <p>Durability: a write is on the target's medium after {@link #flush()} (SYNCHRONIZE CACHE)
 * returns.
 */
public final class ScsiDisk {
  static final int CHUNK_BYTES = 256 * 1024;

  private final IscsiSession session;
  private final int lun;
  private final String vendor;
  private final String product;
  private final ReadWriteLock mergeLock = new ReentrantReadWriteLock();
  private volatile long blocks;
  private volatile int blockSize;
  private volatile boolean thinProvisioned;
  private volatile boolean use16 = true;
  private volatile boolean unmapSupported;

  private ScsiDisk(IscsiSession session, int lun, String vendor, String product) {
    this.session = session;
    this.lun = lun;
    this.vendor = vendor;
    this.product = product;
  }

  /**
   * Checks that {@code lun} is a ready direct-access device and reads its capacity.
   *
   * @throws ScsiStatusException if the target refuses (e.g. ILLEGAL REQUEST: logical unit not
   *     supported)
   * @throws IscsiException if the LUN is not a disk
   */
  public static ScsiDisk open(IscsiSession session, int lun) throws IOException {
    ByteBuffer inquiry = ByteBuffer.allocate(96);
    session.execute(
        new ScsiCommand(
            "INQUIRY", lun, Cdbs.inquiry(false, 0, 96), ScsiCommand.Direction.READ, inquiry));
    int qualifier = (inquiry.get(0) & 0xe0) >>> 5;
    int type = inquiry.get(0) & 0x1f;
    if (qualifier != 0) {
      throw new IscsiException(
          "LUN "
              + lun
              + " of "
              + session.config().targetIqn()
              + " is not connected (qualifier "
              + qualifier
              + ")");
    }
    if (type != 0) {
      throw new IscsiException(
          "LUN "
              + lun
              + " of "
              + session.config().targetIqn()
              + " is not a disk (peripheral device type "
              + type
              + ")");
    }
    ScsiDisk disk = new ScsiDisk(session, lun, ascii(inquiry, 8, 8), ascii(inquiry, 16, 16));
    session.execute(
        new ScsiCommand(
            "TEST UNIT READY", lun, Cdbs.testUnitReady(), ScsiCommand.Direction.NONE, null));
    disk.readCapacity();
    return disk;
  }

  private static String ascii(ByteBuffer b, int offset, int length) {
    byte[] bytes = new byte[length];
    b.get(offset, bytes);
    return new String(bytes, StandardCharsets.US_ASCII).trim();
  }

  /** Reads the capacity again (after the LUN was resized). */
  public void readCapacity() throws IOException {
    ByteBuffer c16 = ByteBuffer.allocate(32);
    try {
      session.execute(
          new ScsiCommand(
              "READ CAPACITY(16)", lun, Cdbs.readCapacity16(32), ScsiCommand.Direction.READ, c16));
      blocks = c16.getLong(0) + 1;
      blockSize = c16.getInt(8);
      thinProvisioned = (c16.get(14) & 0x80) != 0;
      unmapSupported = thinProvisioned;
    } catch (ScsiStatusException e) {
      if (!e.senseKey(SenseData.ILLEGAL_REQUEST)) {
        throw e;
      }
      ByteBuffer c10 = ByteBuffer.allocate(8);
      session.execute(
          new ScsiCommand(
              "READ CAPACITY(10)", lun, Cdbs.readCapacity10(), ScsiCommand.Direction.READ, c10));
      blocks = (c10.getInt(0) & 0xffffffffL) + 1;
      blockSize = c10.getInt(4);
      use16 = false;
    }
    if (blockSize < 512 || Integer.bitCount(blockSize) != 1) {
      throw new IscsiException("LUN " + lun + " reports a block size of " + blockSize);
    }
  }

  /**
   * Uses READ/WRITE (10) from now on, as after a target refused the 16-byte forms; lets tests run
   * the fallback path against targets that have both.
   */
  void useTenByteCommands() {
    use16 = false;
  }

  public int lun() {
    return lun;
  }

  public long sizeBytes() {
    return blocks * blockSize;
  }

  public int blockSize() {
    return blockSize;
  }

  public String vendor() {
    return vendor;
  }

  public String product() {
    return product;
  }

  /** Whether the target reports logical block provisioning (READ CAPACITY (16) LBPME). */
  public boolean thinProvisioned() {
    return thinProvisioned;
  }

  /** Whether {@link #unmap} sends UNMAP (false: the target does not offer it). */
  public boolean unmapSupported() {
    return unmapSupported;
  }

  /**
   * Reads whole blocks at {@code lba} into {@code dst} (whose remaining bytes must be a multiple of
   * the block size). The range is not checked here, so the target's own answer (ILLEGAL REQUEST:
   * LBA out of range) reaches the caller.
   */
  public void readBlocks(long lba, ByteBuffer dst) throws IOException {
    transfer(lba, dst, false);
  }

  /** Writes whole blocks at {@code lba} from {@code src}; see {@link #readBlocks}. */
  public void writeBlocks(long lba, ByteBuffer src) throws IOException {
    transfer(lba, src, true);
  }

  private void transfer(long lba, ByteBuffer buffer, boolean write) throws IOException {
    int length = buffer.remaining();
    if (length % blockSize != 0) {
      throw new IllegalArgumentException(length + " bytes is not a whole number of blocks");
    }
    List<ScsiCommand> commands = new ArrayList<>();
    for (int at = 0; at < length; at += CHUNK_BYTES) {
      int n = Math.min(CHUNK_BYTES, length - at);
      commands.add(blockCommand(write, lba + at / blockSize, ScsiPdus.slice(buffer, at, n)));
    }
    try {
      session.executeAll(commands);
    } catch (ScsiStatusException e) {
      if (!use16
          || !e.hasSense(SenseData.ILLEGAL_REQUEST, 0x20)
          || lba + length / blockSize > 0xffffffffL) {
        throw e;
      }
      use16 = false; // the target does not know READ/WRITE (16): fall back to (10)
      transfer(lba, buffer, write);
      return;
    }
    buffer.position(buffer.position() + length);
  }

  private ScsiCommand blockCommand(boolean write, long lba, ByteBuffer chunk) {
    int n = chunk.remaining() / blockSize;
    boolean sixteen = use16 || lba + n > 0xffffffffL;
    int opcode =
        write ? (sixteen ? Cdbs.WRITE_16 : Cdbs.WRITE_10) : (sixteen ? Cdbs.READ_16 : Cdbs.READ_10);
    String name =
        (write ? "WRITE" : "READ")
            + (sixteen ? "(16)" : "(10)")
            + " of LBA "
            + lba
            + " ("
            + n
            + " blocks)";
    return new ScsiCommand(
        name,
        lun,
        Cdbs.readWrite(opcode, lba, n),
        write ? ScsiCommand.Direction.WRITE : ScsiCommand.Direction.READ,
        chunk);
  }

  /**
   * Reads {@code dst.remaining()} bytes at any byte offset.
   *
   * @throws IllegalArgumentException if the range is outside the disk
   */
  public void read(ByteBuffer dst, long offsetBytes) throws IOException {
    int length = dst.remaining();
    checkRange(offsetBytes, length);
    long first = offsetBytes / blockSize;
    long end = (offsetBytes + length + blockSize - 1) / blockSize;
    if (offsetBytes % blockSize == 0 && length % blockSize == 0) {
      readBlocks(first, dst);
      return;
    }
    ByteBuffer whole = ByteBuffer.allocate((int) ((end - first) * blockSize));
    readBlocks(first, whole);
    whole.position((int) (offsetBytes - first * blockSize)).limit(whole.position() + length);
    dst.put(whole);
  }

  /**
   * Writes {@code src.remaining()} bytes at any byte offset.
   *
   * @throws IllegalArgumentException if the range is outside the disk
   */
  public void write(ByteBuffer src, long offsetBytes) throws IOException {
    int length = src.remaining();
    checkRange(offsetBytes, length);
    if (offsetBytes % blockSize == 0 && length % blockSize == 0) {
      mergeLock.readLock().lock();
      try {
        writeBlocks(offsetBytes / blockSize, src);
      } finally {
        mergeLock.readLock().unlock();
      }
      return;
    }
    long first = offsetBytes / blockSize;
    long end = (offsetBytes + length + blockSize - 1) / blockSize;
    ByteBuffer whole = ByteBuffer.allocate((int) ((end - first) * blockSize));
    mergeLock.writeLock().lock();
    try {
      readBlocks(first, ScsiPdus.slice(whole, 0, blockSize));
      if (end - first > 1) {
        readBlocks(end - 1, ScsiPdus.slice(whole, whole.capacity() - blockSize, blockSize));
      }
      whole.position((int) (offsetBytes - first * blockSize));
      whole.put(src);
      whole.clear();
      writeBlocks(first, whole);
    } finally {
      mergeLock.writeLock().unlock();
    }
  }

  private void checkRange(long offsetBytes, int length) {
    if (offsetBytes < 0 || offsetBytes + length > sizeBytes()) {
      throw new IllegalArgumentException(
          "bytes "
              + offsetBytes
              + ".."
              + (offsetBytes + length)
              + " are outside LUN "
              + lun
              + " of "
              + sizeBytes()
              + " bytes");
    }
  }

  /** Makes every completed write durable on the target (SYNCHRONIZE CACHE (10)). */
  public void flush() throws IOException {
    session.execute(
        new ScsiCommand(
            "SYNCHRONIZE CACHE", lun, Cdbs.synchronizeCache(), ScsiCommand.Direction.NONE, null));
  }

  /**
   * Which {@code granularityBytes}-sized pieces of the LUN may hold data: those with a mapped block
   * according to GET LBA STATUS, on targets with logical block provisioning; every piece on others
   * (or if the target refuses the command).
   */
  public BitSet allocated(int granularityBytes) throws IOException {
    BitSet bits = new BitSet();
    long size = sizeBytes();
    int pieces = (int) ((size + granularityBytes - 1) / granularityBytes);
    if (!thinProvisioned) {
      bits.set(0, pieces);
      return bits;
    }
    long lba = 0;
    ByteBuffer answer = ByteBuffer.allocate(8 + 16 * 256);
    while (lba < blocks) {
      answer.clear();
      try {
        session.execute(
            new ScsiCommand(
                "GET LBA STATUS of LBA " + lba,
                lun,
                Cdbs.getLbaStatus(lba, answer.remaining()),
                ScsiCommand.Direction.READ,
                answer));
      } catch (ScsiStatusException e) {
        if (!e.senseKey(SenseData.ILLEGAL_REQUEST)) {
          throw e;
        }
        bits.set(0, pieces);
        return bits;
      }
      int descriptors = Math.min((answer.getInt(0) - 4) / 16, 256);
      long next = lba;
      for (int i = 0; i < descriptors; i++) {
        int at = 8 + 16 * i;
        long start = answer.getLong(at);
        long count = answer.getInt(at + 8) & 0xffffffffL;
        int status = answer.get(at + 12) & 0x0f;
        if (status == 0 && count > 0) {
          bits.set(
              (int) (start * blockSize / granularityBytes),
              (int) (((start + count) * blockSize + granularityBytes - 1) / granularityBytes));
        }
        next = Math.max(next, start + count);
      }
      if (next <= lba) {
        throw new IscsiException(
            "GET LBA STATUS of LBA " + lba + " on LUN " + lun + " made no progress");
      }
      lba = next;
    }
    return bits;
  }

  /**
   * Deallocates whole blocks (UNMAP) if the target supports it; they then read as zeros on targets
   * that report LBPRZ. Does nothing on targets without logical block provisioning.
   *
   * @return whether UNMAP was sent
   */
  public boolean unmap(long lba, int blockCount) throws IOException {
    if (!unmapSupported) {
      return false;
    }
    ByteBuffer parameters = Cdbs.unmapParameters(lba, blockCount);
    try {
      session.execute(
          new ScsiCommand(
              "UNMAP of LBA " + lba + " (" + blockCount + " blocks)",
              lun,
              Cdbs.unmap(parameters.remaining()),
              ScsiCommand.Direction.WRITE,
              parameters));
    } catch (ScsiStatusException e) {
      if (e.hasSense(SenseData.ILLEGAL_REQUEST, 0x20)) {
        unmapSupported = false;
        return false;
      }
      throw e;
    }
    return true;
  }
}
