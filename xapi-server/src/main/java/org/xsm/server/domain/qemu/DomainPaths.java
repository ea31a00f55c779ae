package org.xsm.server.domain.qemu;

import java.nio.file.Path;

/**
 * Where a QEMU domain's files are: its state directory under the data directory (the spec it was
 * built from, its pid) and its sockets in the run directory (short paths, see {@code
 * runtime.RunDirectory}). Both are derived from the VM's UUID, so a restarted server finds them.
 *
 * @param state {@code <data>/domains/<vm uuid>}
 * @param run the run directory
 * @param vmUuid the domain's VM
 */
public record DomainPaths(Path state, Path run, String vmUuid) {
  public Path specFile() {
    return state.resolve("domain.json");
  }

  /**
   * Present while the domain waits for an incoming migration: a server that restarts then ends it
   * (the stream it waited for is gone with the server that set it up).
   */
  public Path incomingMarker() {
    return state.resolve("incoming");
  }

  public Path pidFile() {
    return state.resolve("qemu.pid");
  }

  public Path qmp() {
    return run.resolve(vmUuid + ".qmp");
  }

  /** The first serial port (a UNIX socket; connect to read and type on the guest's console). */
  public Path serial() {
    return run.resolve(vmUuid + ".serial");
  }

  /** The VNC server of the guest's screen (a UNIX socket, no password: the proxy checks). */
  public Path vnc() {
    return run.resolve(vmUuid + ".vnc");
  }

  /** The host end of the guest's agent port (virtio-serial; see {@code GuestChannel}). */
  public Path agent() {
    return run.resolve(vmUuid + ".agent");
  }

  /** The FIFO a memory image passes through on its way to or from the suspend VDI. */
  public Path memoryFifo() {
    return run.resolve(vmUuid + ".mem");
  }
}
