package org.xsm.plugins.filesr;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xsm.api.SnapshotKind;
import org.xsm.api.SnapshotRequest;
import org.xsm.api.TreeChange;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.plugins.store.ForwardingImageStore;
import org.xsm.plugins.store.ImageFile;
import org.xsm.plugins.store.ImageStore;
import org.xsm.plugins.store.LocalImageStore;
import org.xsm.plugins.store.StoreEntry;

/**
 * The in-memory model makes a VDI operation's I/O independent of the number of VDIs, shown by
 * counting, not timing: an operation lists nothing and opens only its own VDI's files; a scan reads
 * no file it already knows; a re-attach reads nothing unchanged (the saved model cache) and sees
 * what changed behind the driver's back.
 */
class SrModelTest {
  private static final long MIB = 1024 * 1024;
  @TempDir Path dir;

  /** A local store that records which files are opened and how often the directory is listed. */
  private static final class CountingStore extends ForwardingImageStore {
    final Set<String> opened = ConcurrentHashMap.newKeySet();
    volatile int listings;

    CountingStore(ImageStore d) {
      super(d);
    }

    void reset() {
      opened.clear();
      listings = 0;
    }

    @Override
    public ImageFile create(String n) throws IOException {
      opened.add(n);
      return super.create(n);
    }

    @Override
    public ImageFile open(String n, boolean w) throws IOException {
      opened.add(n);
      return super.open(n, w);
    }

    @Override
    public List<String> list() throws IOException {
      listings++;
      return super.list();
    }

    @Override
    public List<StoreEntry> listEntries() throws IOException {
      listings++;
      return super.listEntries();
    }
  }

  private FileSr attach(CountingStore store) throws Exception {
    FileSr sr = new FileSr(store, TestDriverInfo.INFO, "sr", () -> {});
    sr.locked(
        () -> {
          sr.recover();
          return null;
        });
    return sr;
  }

  /** The opened files that belong to none of the given VDIs (temporary names included). */
  private static List<String> foreign(Set<String> opened, List<String> ours) {
    List<String> out = new ArrayList<>();
    for (String name : opened) {
      if (ours.stream().noneMatch(name::contains) && !name.contains(".oplog-")) {
        out.add(name);
      }
    }
    return out;
  }

  @Test
  void operationsListNothingAndOpenOnlyTheirOwnFiles() throws Exception {
    CountingStore store = new CountingStore(LocalImageStore.open(dir));
    FileSr sr = attach(store);
    List<String> vdis = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      vdis.add(sr.createVdi(4 * MIB, VdiMetadata.named("disk " + i)).location());
    }
    sr.scan();
    store.reset();

    String created = sr.createVdi(4 * MIB, VdiMetadata.named("new")).location();
    TreeChange snap = sr.snapshotChange(vdis.get(0), SnapshotKind.DOUBLE, null);
    TreeChange clone = sr.cloneChange(vdis.get(1), null);
    List<TreeChange> batch =
        sr.snapshotAll(
            List.of(
                new SnapshotRequest(vdis.get(2), SnapshotKind.DOUBLE, null),
                new SnapshotRequest(vdis.get(3), SnapshotKind.DOUBLE, null)));
    sr.updateVdi(vdis.get(4), VdiMetadata.named("renamed"));
    sr.attachVdi(vdis.get(5), true);
    sr.activateVdi(vdis.get(5));
    sr.detachVdi(vdis.get(5));
    sr.deleteVdi(vdis.get(6));
    sr.resize(vdis.get(7), 8 * MIB);

    assertThat(store.listings).as("directory listings by single-VDI operations").isZero();
    List<String> ours = new ArrayList<>(vdis.subList(0, 8));
    ours.add(created);
    for (TreeChange c : concat(List.of(snap, clone), batch)) {
      ours.add(c.vdi().location());
      c.changed().forEach(v -> ours.add(v.location()));
    }
    assertThat(foreign(store.opened, ours)).as("files of other VDIs opened").isEmpty();

    store.reset();
    List<VdiInfo> scan = sr.scan();
    assertThat(store.opened)
        .as("files a scan read although the SR wrote them itself")
        .noneMatch(n -> n.endsWith(".vhd") || n.endsWith(".meta"));
    assertThat(scan).extracting(VdiInfo::location).contains(created).doesNotContain(vdis.get(6));
    assertThat(scan.stream().filter(v -> v.location().equals(vdis.get(4))))
        .extracting(v -> v.metadata().nameLabel())
        .containsExactly("renamed");
    sr.detach();
  }

  @Test
  void reattachReadsOnlyWhatChangedBehindTheDriversBack() throws Exception {
    FileSr sr = attach(new CountingStore(LocalImageStore.open(dir)));
    List<String> vdis = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      vdis.add(sr.createVdi(4 * MIB, VdiMetadata.named("disk " + i)).location());
    }
    sr.scan();
    sr.detach(); // saves the model cache

    // Behind the driver's back: a VDI renamed by editing its metadata file.
    Path meta = dir.resolve(vdis.get(3) + ".meta");
    String text = Files.readString(meta, StandardCharsets.ISO_8859_1);
    Files.writeString(
        meta,
        text.replace("name_label=disk 3", "name_label=edited by hand"),
        StandardCharsets.ISO_8859_1);

    CountingStore store = new CountingStore(LocalImageStore.open(dir));
    FileSr again = attach(store);
    store.reset();
    List<VdiInfo> scan = again.scan();
    assertThat(store.opened.stream().filter(n -> n.endsWith(".vhd") || n.endsWith(".meta")))
        .as("files the first scan after re-attach read")
        .containsExactly(vdis.get(3) + ".meta");
    assertThat(scan.stream().filter(v -> v.location().equals(vdis.get(3))))
        .extracting(v -> v.metadata().nameLabel())
        .containsExactly("edited by hand");
    assertThat(scan).hasSize(20);
    again.detach();

    // A damaged cache file costs rereads, not errors.
    Files.writeString(dir.resolve(ModelCache.FILE), "format=1\nv.x.vhd=garbage\n");
    FileSr third = attach(new CountingStore(LocalImageStore.open(dir)));
    assertThat(third.scan()).hasSize(20);
    third.detach();
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
