package org.xsm.nfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.SmError;
import org.xsm.api.SmException;
import org.xsm.nfs.client.NfsException;
import org.xsm.nfs.client.NfsStatus;
import org.xsm.plugins.store.FailingWritesStore;
import org.xsm.plugins.store.LocalImageStore;

/**
 * The attach-time check that an export is writable (xapi's error 461). Found by the soak: an NFS SR
 * whose export had filled up could no longer be attached after a restart (the probe's one byte got
 * NFS3ERR_NOSPC), so its VDIs could not even be read or deleted to free space. A full export is
 * writable; one that refuses writes is not. The probe file never stays.
 */
class WritableCheckTest {
  @TempDir Path dir;

  private FailingWritesStore failing(IOException failure) throws IOException {
    FailingWritesStore s = new FailingWritesStore(LocalImageStore.open(dir));
    s.failure = failure;
    return s;
  }

  private List<Path> left() throws IOException {
    try (var s = Files.list(dir)) {
      return s.toList();
    }
  }

  @Test
  void aFullExportIsWritable() throws Exception {
    for (int status : new int[] {NfsStatus.NOSPC, NfsStatus.DQUOT}) {
      NfsDriver.checkWritable(failing(new NfsException(status, "WRITE")));
    }
    NfsDriver.checkWritable(failing(new IOException("No space left on device")));
    assertThat(left()).as("probe files left").isEmpty();
  }

  @Test
  void anExportThatRefusesWritesIsNot() throws Exception {
    assertThatThrownBy(
            () -> NfsDriver.checkWritable(failing(new NfsException(13, "WRITE (NFS3ERR_ACCES)"))))
        .isInstanceOfSatisfying(
            SmException.class, e -> assertThat(e.error()).isEqualTo(SmError.SHARED_FS_NO_WRITE));
    assertThat(left()).as("probe files left").isEmpty();
  }

  @Test
  void aWritableExportPasses() throws Exception {
    NfsDriver.checkWritable(LocalImageStore.open(dir));
    assertThat(left()).isEmpty();
  }
}
