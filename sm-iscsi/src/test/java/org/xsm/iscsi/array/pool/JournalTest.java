package org.xsm.iscsi.array.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {
  @TempDir Path dir;

  private Path writeThree() throws IOException {
    Path p = dir.resolve("j");
    try (Journal j = Journal.open(p)) {
      j.replay(0, e -> {});
      for (int i = 0; i < 3; i++) {
        byte[] payload = ("record-" + i).getBytes();
        j.append((byte) 1, payload, payload.length);
      }
      j.force();
    }
    return p;
  }

  private List<String> replay(Path p, long from) throws IOException {
    List<String> out = new ArrayList<>();
    try (Journal j = Journal.open(p)) {
      j.replay(
          from,
          e -> {
            byte[] b = new byte[e.payload().remaining()];
            e.payload().get(b);
            out.add(e.seq() + ":" + new String(b));
          });
    }
    return out;
  }

  @Test
  void replaysIntactRecordsInOrder() throws IOException {
    assertThat(replay(writeThree(), 0)).containsExactly("0:record-0", "1:record-1", "2:record-2");
  }

  @Test
  void skipsRecordsBelowTheCheckpointSeq() throws IOException {
    assertThat(replay(writeThree(), 2)).containsExactly("2:record-2");
  }

  @Test
  void tornTailIsCutAndNewRecordsFollowTheLastIntactOne() throws IOException {
    Path p = writeThree();
    long size = Files.size(p);
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(size - 3); // the last record lost its end
    }
    assertThat(replay(p, 0)).containsExactly("0:record-0", "1:record-1");
    try (Journal j = Journal.open(p)) {
      j.replay(0, e -> {});
      assertThat(j.nextSeq()).isEqualTo(2);
      j.append((byte) 1, "again".getBytes(), 5);
      j.force();
    }
    assertThat(replay(p, 0)).containsExactly("0:record-0", "1:record-1", "2:again");
  }

  @Test
  void aFlippedBitEndsReplayAtThatRecord() throws IOException {
    Path p = writeThree();
    long second = Journal.HEADER + "record-0".length();
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.seek(second + Journal.HEADER + 2);
      int b = f.read();
      f.seek(second + Journal.HEADER + 2);
      f.write(b ^ 0x10);
    }
    assertThat(replay(p, 0)).containsExactly("0:record-0");
  }

  @Test
  void garbageLengthIsATornTailNotACrash() throws IOException {
    Path p = writeThree();
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.seek(f.length());
      f.writeInt(0x7fffffff);
      f.write(new byte[20]);
    }
    assertThat(replay(p, 0)).hasSize(3);
  }
}
