package org.xsm.server.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every XenAPI class the server keeps, each declared once in its model file. Relations are stored
 * once, on the single-reference side (VBD.VM); the set side (VM.VBDs) is computed from an index, so
 * both always agree.
 */
public final class Schema {
  private static final List<XClass<?>> CLASSES =
      List.of(
          Pool.CLASS,
          Host.CLASS,
          Session.CLASS,
          User.CLASS,
          Sr.CLASS,
          Pbd.CLASS,
          Vdi.CLASS,
          Vbd.CLASS,
          Vm.CLASS,
          Network.CLASS,
          Vif.CLASS,
          Vgpu.CLASS,
          Task.CLASS,
          Message.CLASS,
          HostMetrics.CLASS,
          VmMetrics.CLASS,
          VmGuestMetrics.CLASS,
          Pif.CLASS,
          Sm.CLASS,
          Console.CLASS,
          Blob.CLASS,
          PoolUpdate.CLASS,
          Role.CLASS,
          Subject.CLASS,
          Secret.CLASS,
          Vtpm.CLASS);

  private static final Map<String, XClass<?>> BY_NAME = new LinkedHashMap<>();

  static {
    for (XClass<?> c : CLASSES) {
      BY_NAME.put(c.name().toLowerCase(Locale.ROOT), c);
    }
  }

  private Schema() {}

  /**
   * A class by wire name, case-insensitively (clients write {@code vm} and {@code VM}), or null.
   */
  public static XClass<?> get(String name) {
    return name == null ? null : BY_NAME.get(name.toLowerCase(Locale.ROOT));
  }

  public static List<XClass<?>> classes() {
    return CLASSES;
  }
}
