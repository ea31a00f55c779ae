package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.xsm.server.xva.XvaObjects;
import org.xsm.server.xva.XvaRecovery;

/**
 * What a crash in the middle of an XVA import leaves (records marked as made by an unfinished
 * import, made here by hand) is removed by the start-up clean-up, disks and their data included;
 * records without the mark stay.
 */
@QuarkusTest
class XvaRecoveryTest extends XvaTestBase {
  @Inject XvaRecovery recovery;

  @Test
  void marksOfAnUnfinishedImportAreRemovedAtStart() throws Exception {
    VM half = vmWithDisks("xva-half-imported", image(2 * MIB, 3, 0));
    VDI orphan = newVdi("xva-half-imported-orphan", 2 * MIB);
    VM kept = vmWithDisks("xva-kept", image(2 * MIB, 4, 0));
    VDI halfDisk = disks(half).get("0");
    half.addToOtherConfig(c, XvaObjects.INCOMPLETE, "OpaqueRef:lost-task");
    halfDisk.addToOtherConfig(c, XvaObjects.INCOMPLETE, "OpaqueRef:lost-task");
    orphan.addToOtherConfig(c, XvaObjects.INCOMPLETE, "OpaqueRef:lost-task");
    String keptUuid = kept.getUuid(c);

    assertThat(recovery.removeUnfinished()).isEqualTo(3);

    assertThat(VM.getAllRecords(c).values())
        .noneMatch(r -> r.nameLabel.equals("xva-half-imported"));
    defaultSr().scan(c); // the data went too: a scan brings no VDI back
    assertThat(VDI.getAllRecords(c).values())
        .noneMatch(r -> r.nameLabel.startsWith("xva-half-imported"));
    assertThat(VM.getByUuid(c, keptUuid).getVBDs(c)).hasSize(1);
    assertThat(Map.copyOf(kept.getOtherConfig(c))).doesNotContainKey(XvaObjects.INCOMPLETE);
  }
}
