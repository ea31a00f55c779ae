package org.xsm.iscsi.array.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HashIndexTest {
  @Test
  void behavesLikeAMapUnderRandomPutsAndRemoves() {
    HashIndex index = new HashIndex();
    Map<Long, Integer> model = new HashMap<>();
    Random r = new Random(42);
    for (int i = 0; i < 200_000; i++) {
      long key = r.nextInt(5000) * 0x100000001L; // clustered keys, many collisions
      int block = r.nextInt(1_000_000);
      if (r.nextInt(3) == 0) {
        Integer cur = model.get(key);
        if (cur != null) {
          index.remove(key, cur);
          model.remove(key);
        }
      } else if (!model.containsKey(key)) {
        index.putIfAbsent(key, block);
        model.put(key, block);
      }
    }
    assertThat(index.size()).isEqualTo(model.size());
    for (long k = 0; k < 5000; k++) {
      long key = k * 0x100000001L;
      assertThat(index.get(key)).isEqualTo(model.getOrDefault(key, -1));
    }
  }

  @Test
  void removeLeavesOtherBlocksEntryAlone() {
    HashIndex index = new HashIndex();
    index.putIfAbsent(7, 1);
    index.remove(7, 2);
    assertThat(index.get(7)).isEqualTo(1);
  }
}
