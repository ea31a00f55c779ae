package org.xsm.server.domain;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.nio.file.Path;
import java.util.List;

/**
 * What a domain is built from: the VM's configuration when it starts, with its disks already
 * exported for it. Kept with a running domain (QEMU writes it to its state directory), so a resume
 * or a restarted server rebuilds the same machine.
 *
 * @param vmUuid the VM's UUID, which names the domain
 * @param name the VM's name label (for logs and the process's name)
 * @param vcpus {@code VM.VCPUs_at_startup}
 * @param memoryBytes {@code VM.memory_static_max}
 * @param boot how it boots
 * @param disks block devices, in userdevice order
 * @param nics network interfaces
 */
public record DomainSpec(
    String vmUuid,
    String name,
    long vcpus,
    long memoryBytes,
    Boot boot,
    List<Disk> disks,
    List<Nic> nics) {

  /** How a domain boots (XenAPI: {@code PV_kernel} set, else {@code HVM_boot_policy}). */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = KernelBoot.class, name = "kernel"),
    @JsonSubTypes.Type(value = FirmwareBoot.class, name = "firmware")
  })
  public sealed interface Boot permits KernelBoot, FirmwareBoot {}

  /** Direct kernel boot: {@code PV_kernel}, {@code PV_ramdisk}, {@code PV_args}. */
  public record KernelBoot(String kernel, String ramdisk, String args) implements Boot {}

  /** Firmware ("BIOS order"): the first bootable disk (or the first disk, or a CD per order). */
  public record FirmwareBoot(String order) implements Boot {}

  /** Kind of block device. */
  public enum DiskKind {
    DISK,
    CDROM
  }

  /**
   * A block device reached over NBD on a local socket.
   *
   * @param userdevice the VBD's position
   * @param kind disk or CD
   * @param socket the NBD server's UNIX socket
   * @param export the export's name on it
   * @param readOnly no writes
   * @param bootable the VBD's {@code bootable}
   * @param vdiUuid the VDI behind it
   */
  public record Disk(
      String userdevice,
      DiskKind kind,
      Path socket,
      String export,
      boolean readOnly,
      boolean bootable,
      String vdiUuid) {}

  /** A network interface (user-mode networking). */
  public record Nic(String device, String mac) {}
}
