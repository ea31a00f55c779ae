package org.xsm.server.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Boot media for the firmware boot paths (HVM_boot_policy "BIOS order"): a hand-assembled x86 boot
 * sector whose code writes a message to the first serial port (COM1, I/O port 0x3f8) twice a second
 * forever, for a disk's MBR or as a CD's El Torito no-emulation boot image; and a CD image holding
 * it, made with genisoimage and cached under {@code target/guest-cache/}. The firmware (QEMU's
 * SeaBIOS) must read the sector through the disk's or CD's device to run it, so the message on the
 * serial console proves that boot path end to end.
 */
public final class BootImages {
  private static final int SECTOR = 512;

  /**
   * Real-mode code, loaded at 0x7c00 by the firmware (segment 0 for a disk, 0x7c0 for a CD: only
   * relative jumps and an absolute address through DS=0 are used, so both work).
   *
   * <pre>
   * 00: 31 c0        xor ax,ax
   * 02: 8e d8        mov ds,ax
   * 04: fb           sti               ; the timer tick wakes hlt (18.2 Hz)
   * 05: be 1b 7c     mov si,0x7c1b     ; the message, after the code
   * 08: ba f8 03     mov dx,0x3f8      ; COM1's transmit register
   * 0b: ac           lodsb
   * 0c: 84 c0        test al,al
   * 0e: 74 03        jz 0x13
   * 10: ee           out dx,al
   * 11: eb f8        jmp 0x0b
   * 13: b9 09 00     mov cx,9          ; about half a second of ticks
   * 16: f4           hlt
   * 17: e2 fd        loop 0x16
   * 19: eb ea        jmp 0x05          ; again: a console that connects late still sees it
   * 1b: the message, NUL-terminated
   * </pre>
   */
  private static final byte[] CODE = {
    0x31,
    (byte) 0xc0,
    (byte) 0x8e,
    (byte) 0xd8,
    (byte) 0xfb,
    (byte) 0xbe,
    0x1b,
    0x7c,
    (byte) 0xba,
    (byte) 0xf8,
    0x03,
    (byte) 0xac,
    (byte) 0x84,
    (byte) 0xc0,
    0x74,
    0x03,
    (byte) 0xee,
    (byte) 0xeb,
    (byte) 0xf8,
    (byte) 0xb9,
    0x09,
    0x00,
    (byte) 0xf4,
    (byte) 0xe2,
    (byte) 0xfd,
    (byte) 0xeb,
    (byte) 0xea
  };

  private BootImages() {}

  /** Why a boot CD cannot be made here, or empty if it can. */
  public static Optional<String> unavailable() {
    return Files.isExecutable(Path.of("/usr/bin/genisoimage"))
        ? Optional.empty()
        : Optional.of("genisoimage is not installed (apt-get install genisoimage)");
  }

  /** A boot sector (with the 0x55 0xaa signature) that prints {@code message} on COM1. */
  public static byte[] bootSector(String message) {
    byte[] text = (message + "\r\n").getBytes(StandardCharsets.US_ASCII);
    if (CODE.length + text.length + 1 > SECTOR - 2) {
      throw new IllegalArgumentException("message too long for a boot sector: " + message);
    }
    byte[] s = new byte[SECTOR];
    System.arraycopy(CODE, 0, s, 0, CODE.length);
    System.arraycopy(text, 0, s, CODE.length, text.length);
    s[SECTOR - 2] = 0x55;
    s[SECTOR - 1] = (byte) 0xaa;
    return s;
  }

  /**
   * A CD image whose El Torito no-emulation boot image (4 sectors loaded) is {@link
   * #bootSector(String)} of {@code message}, built once per message and cached.
   */
  public static synchronized Path bootCd(String message) throws IOException, InterruptedException {
    Path dir =
        Path.of("target", "guest-cache", "bootcd-" + Integer.toHexString(message.hashCode()))
            .toAbsolutePath();
    Path iso = dir.resolve("boot.iso");
    if (Files.exists(iso)) {
      return iso;
    }
    Path tree = dir.resolve("tree");
    Files.createDirectories(tree);
    byte[] image = new byte[4 * SECTOR];
    System.arraycopy(bootSector(message), 0, image, 0, SECTOR);
    Files.write(tree.resolve("boot.img"), image);
    Files.writeString(tree.resolve("README.TXT"), message + "\n");
    Path tmp = dir.resolve("boot.iso.tmp");
    Process p =
        new ProcessBuilder(
                "genisoimage",
                "-quiet",
                "-V",
                "XSMBOOT",
                "-b",
                "boot.img",
                "-no-emul-boot",
                "-boot-load-size",
                "4",
                "-o",
                tmp.toString(),
                tree.toString())
            .redirectErrorStream(true)
            .start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("genisoimage failed: " + out);
    }
    Files.move(tmp, iso, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return iso;
  }
}
