package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Xen Orchestra tags a backup with parallel add_to_other_config / remove_from_other_config calls on
 * one VM: every read-modify-write of a record must be atomic, or concurrent changes overwrite each
 * other. Here 16 clients, each with its own session (as 16 XO workers), change the map, set and
 * string fields of one VM 1,024 times in all, released together; what must remain is computed from
 * what each client did and compared key by key.
 */
@QuarkusTest
class ConcurrentUpdatesTest extends SdkTest {
  private static final int CLIENTS = 16;
  private static final int ROUNDS = 16; // 4 changes a round: 16 x 16 x 4 = 1,024

  @Test
  void parallelMapAndSetChangesOfOneVmLoseNothing() throws Exception {
    VM.Record r = new VM.Record();
    r.nameLabel = "contended";
    r.otherConfig = Map.of("kept", "yes");
    r.tags = Set.of("base");
    VM vm = VM.create(c, r);
    // As xapi, VM.create adds the seed of the VM's generated MACs to what the client gave.
    Map<String, String> created = vm.getOtherConfig(c);
    assertThat(created).containsEntry("kept", "yes").containsKey("mac_seed").hasSize(2);
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    CountDownLatch go = new CountDownLatch(1);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        int client = i;
        done.add(
            pool.submit(
                () -> {
                  Connection own = new Connection(url);
                  Session.loginWithPassword(own, "root", "xsm-test-root", "2.21");
                  try {
                    go.await();
                    for (int k = 0; k < ROUNDS; k++) {
                      String key = "c" + client + "-" + k;
                      vm.addToOtherConfig(own, key, "v" + k);
                      vm.addTags(own, key);
                      if (k % 2 == 1) { // every other entry is taken back again
                        vm.removeFromOtherConfig(own, key);
                        vm.removeTags(own, key);
                      }
                      vm.setNameDescription(own, "last writer " + client);
                    }
                  } finally {
                    Session.logout(own);
                  }
                  return null;
                }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get();
      }
      Map<String, String> expectedConfig = new HashMap<>(created);
      Set<String> expectedTags = new HashSet<>(Set.of("base"));
      for (int i = 0; i < CLIENTS; i++) {
        for (int k = 0; k < ROUNDS; k += 2) {
          expectedConfig.put("c" + i + "-" + k, "v" + k);
          expectedTags.add("c" + i + "-" + k);
        }
      }
      assertThat(vm.getOtherConfig(c)).isEqualTo(expectedConfig);
      assertThat(vm.getTags(c)).isEqualTo(expectedTags);
      assertThat(vm.getNameDescription(c)).startsWith("last writer ");
    } finally {
      pool.shutdownNow();
      vm.destroy(c);
    }
  }
}
