package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Event;
import com.xensource.xenapi.EventBatch;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.Role;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * XenCenter's connect sequence (xenserver/xenadmin, see xenapi-clients.md), made with the Java SDK
 * in the same order: pool.get_all_records, host.get_record of the master,
 * session.get_is_local_superuser, session.get_rbac_permissions, role.get_all_records, then
 * event.from(["*"], "", 30), whose answer XenCenter builds its whole cache from, and the event.from
 * loop on the token it returned.
 */
@QuarkusTest
class XenCenterConnectTest extends SdkTest {
  @Test
  void connectsAndBuildsItsCacheFromEventFrom() throws Exception {
    Map<Pool, Pool.Record> pools = Pool.getAllRecords(c);
    assertThat(pools).hasSize(1);
    Pool.Record pool = pools.values().iterator().next();
    Host.Record master = pool.master.getRecord(c);
    assertThat(master.uuid).isNotEmpty();
    Session session = Types.toSession(c.getSessionReference());
    assertThat(session.getIsLocalSuperuser(c)).isTrue();
    assertThat(session.getRbacPermissions(c)).isNotNull();
    assertThat(Role.getAllRecords(c)).isNotNull();

    EventBatch all = Event.from(c, new HashSet<>(Set.of("*")), "", 30.0);
    Map<String, Object> cache = new HashMap<>();
    for (Event.Record e : all.events) {
      assertThat(e.operation).isEqualTo(Types.EventOperation.ADD);
      cache.put(e.ref, e.snapshot);
    }
    // Everything XenCenter shows is in the cache, typed as the SDK reads each class.
    assertThat(cache.get(pools.keySet().iterator().next().toWireString()))
        .isInstanceOf(Pool.Record.class);
    assertThat(cache.get(pool.master.toWireString())).isInstanceOf(Host.Record.class);
    for (SR sr : SR.getAll(c)) {
      assertThat(cache.get(sr.toWireString())).as("SR %s", sr).isInstanceOf(SR.Record.class);
    }
    for (VDI vdi : VDI.getAll(c)) {
      assertThat(cache).containsKey(vdi.toWireString());
    }
    for (VM vm : VM.getAll(c)) {
      assertThat(cache.get(vm.toWireString())).as("VM %s", vm).isInstanceOf(VM.Record.class);
    }

    // The loop: a change made now comes with the token of the first answer.
    Pool p = pools.keySet().iterator().next();
    String description = "xencenter-" + System.nanoTime();
    String old = p.getNameDescription(c);
    p.setNameDescription(c, description);
    try {
      EventBatch next = Event.from(c, new HashSet<>(Set.of("*")), all.token, 30.0);
      assertThat(next.events)
          .anySatisfy(
              e -> {
                assertThat(e.ref).isEqualTo(p.toWireString());
                assertThat(e.operation).isEqualTo(Types.EventOperation.MOD);
                assertThat(((Pool.Record) e.snapshot).nameDescription).isEqualTo(description);
              });
    } finally {
      p.setNameDescription(c, old);
    }
  }
}
