package org.xsm.server.xva;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;

/**
 * What an import has done so far (xapi's import.ml {@code state}): the table from export ids to the
 * objects made or found here, the VMs made, the disks to fill, and the undo actions of everything
 * made, run newest first if the import fails.
 */
final class ImportState {
  private static final Logger LOG = Logger.getLogger(ImportState.class);

  /** An undo action. */
  @FunctionalInterface
  interface Undo {
    void run() throws XenApiException;
  }

  /**
   * A disk to fill from the archive: its export id, the new VDI, and the size the archive gives
   * (the SR may have rounded the new VDI's up).
   */
  record Target(String id, Ref<Vdi> vdi, long sizeBytes) {}

  final Map<String, String> table = new LinkedHashMap<>();
  final List<Ref<Vm>> vms = new ArrayList<>();
  final List<Target> disks = new ArrayList<>();
  private final List<Undo> undo = new ArrayList<>();
  private final List<String> undoNames = new ArrayList<>();

  void onFailure(String what, Undo u) {
    undo.add(u);
    undoNames.add(what);
  }

  /** Runs the undo actions, newest first; each failure is logged and the rest still run. */
  void rollBack() {
    for (int i = undo.size() - 1; i >= 0; i--) {
      try {
        undo.get(i).run();
      } catch (XenApiException | RuntimeException e) {
        LOG.errorf(e, "import clean-up: could not remove %s", undoNames.get(i));
      }
    }
    undo.clear();
    undoNames.clear();
  }
}
