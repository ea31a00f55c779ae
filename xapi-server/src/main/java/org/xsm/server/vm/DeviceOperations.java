package org.xsm.server.vm;

import java.util.ArrayList;
import java.util.List;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Row;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.VbdType;

/** The allowed operations of a VM's VBDs and VIFs, from their state and the VM's power state. */
final class DeviceOperations {
  private DeviceOperations() {}

  /**
   * A VBD's operations (xapi_vbd_helpers): plug on a running VM's unplugged VBD, unplug (unless not
   * unpluggable) on its plugged one, insert into an empty CD drive and eject from a full one,
   * attach on a halted VM.
   */
  static List<String> vbd(Row<Vbd> b, PowerState s) {
    List<String> out = new ArrayList<>();
    boolean attached = b.get(Vbd.CURRENTLY_ATTACHED);
    if (s == PowerState.HALTED) {
      out.add("attach");
    }
    if (b.get(Vbd.TYPE) == VbdType.CD) {
      out.add(b.get(Vbd.EMPTY) ? "insert" : "eject");
    }
    if (s == PowerState.RUNNING && !attached) {
      out.add("plug");
    }
    if (s == PowerState.RUNNING && attached) {
      if (b.get(Vbd.UNPLUGGABLE)) {
        out.add("unplug");
        out.add("unplug_force");
      }
      out.add("pause");
    }
    if (s == PowerState.PAUSED) {
      out.add("unpause");
    }
    return out;
  }

  /** A VIF's operations: plug or unplug on a running VM, attach on a halted one. */
  static List<String> vif(boolean attached, PowerState s) {
    if (s == PowerState.HALTED) {
      return List.of("attach");
    }
    if (s == PowerState.RUNNING) {
      return List.of(attached ? "unplug" : "plug");
    }
    return List.of();
  }
}
