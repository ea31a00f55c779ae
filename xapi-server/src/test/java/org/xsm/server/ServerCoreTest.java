package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.xensource.xenapi.Event;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.VDI;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.xsm.server.model.StaticRole;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.CallContext;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.RpcMethod;

/**
 * What the server core promises beyond single messages: a VDI's new name reaches the SR (so a scan
 * after the database is lost brings back the new name), a change that sets the values a record
 * already has is not an event, and an unexpected failure is logged and reaches the client as
 * INTERNAL_ERROR with a correlation id.
 */
@QuarkusTest
class ServerCoreTest extends SdkTest {
  private static final long MIB = 1 << 20;
  @Inject Dispatcher dispatcher;

  @Test
  void aRenamedVdiKeepsItsNewNameThroughAForgetAndScan() throws Exception {
    SR sr = defaultSr();
    VDI vdi = newVdi("old name", 4 * MIB);
    String uuid = vdi.getUuid(c);
    vdi.setNameLabel(c, "new name");
    vdi.setNameDescription(c, "new description");
    vdi.forget(c); // the record goes, as if the database were lost; the SR keeps the data
    assertThatThrownBy(() -> VDI.getByUuid(c, uuid))
        .isInstanceOf(com.xensource.xenapi.Types.UuidInvalid.class);
    sr.scan(c);
    VDI back = VDI.getByUuid(c, uuid);
    assertThat(back.getNameLabel(c)).isEqualTo("new name");
    assertThat(back.getNameDescription(c)).isEqualTo("new description");
    back.destroy(c);
  }

  @Test
  void aSnapshotIntroducesItsBaseCopyWithoutAScan() throws Exception {
    VDI vdi = newVdi("leaf", 4 * MIB);
    VDI snap = vdi.snapshot(c, Map.of());
    // EXT: the data moved to a new hidden base copy, parent of both the leaf and the snapshot. Its
    // record comes from what the driver reported, in the same call: no SR.scan was made.
    String base = vdi.getSmConfig(c).get("vhd-parent");
    assertThat(base).isNotNull().isEqualTo(snap.getSmConfig(c).get("vhd-parent"));
    VDI baseCopy = VDI.getByUuid(c, base);
    assertThat(baseCopy.getManaged(c)).isFalse();
    assertThat(baseCopy.getNameLabel(c)).isEqualTo("base copy");
    assertThat(baseCopy.getSR(c)).isEqualTo(defaultSr());
    assertThat(snap.getSnapshotOf(c)).isEqualTo(vdi);
    snap.destroy(c);
    vdi.destroy(c);
  }

  @Test
  void settingTheSameValueIsNotAChange() throws Exception {
    VDI vdi = newVdi("quiet", MIB);
    vdi.setNameLabel(c, "quiet");
    String token = Event.from(c, Set.of("vdi"), "", 0.1).token;
    vdi.setNameLabel(c, "quiet"); // unchanged: no write, no event
    vdi.addToOtherConfig(c, "k", "v"); // changed: one event
    var batch = Event.from(c, Set.of("vdi"), token, 5.0);
    assertThat(batch.events).hasSize(1);
    assertThat(batch.events.iterator().next().operation)
        .isEqualTo(com.xensource.xenapi.Types.EventOperation.MOD);
    assertThat(vdi.getOtherConfig(c)).isEqualTo(Map.of("k", "v"));
    vdi.destroy(c);
  }

  @Test
  void anUnexpectedFailureIsAnInternalErrorWithACorrelationId() {
    RpcMethod broken =
        new RpcMethod(
            "test.broken",
            1,
            true,
            false,
            (ctx, a) -> {
              throw new IllegalStateException("the invariant broke");
            });
    assertThatThrownBy(
            () ->
                dispatcher.invoke(
                    broken,
                    new CallContext(null, "root", StaticRole.POOL_ADMIN, true, null),
                    List.of()))
        .isInstanceOfSatisfying(
            XenApiException.class,
            e -> {
              assertThat(e.is(XenApiError.INTERNAL_ERROR)).isTrue();
              assertThat(e.params().get(0)).isEqualTo("the invariant broke");
              assertThat(e.params().get(1)).matches("correlation id [0-9a-f-]{36}");
            });
  }
}
