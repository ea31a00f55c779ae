package org.xsm.server.xva;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleConsumer;
import org.jboss.logging.Logger;
import org.xsm.api.SmException;
import org.xsm.api.VdiDevice;
import org.xsm.server.db.Database;
import org.xsm.server.model.Network;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.sr.SrService;
import org.xsm.server.vm.VmOperations;
import org.xsm.server.xva.OvaXml.Header;
import org.xsm.server.xva.OvaXml.XvaObject;

/**
 * xapi's VM import (import.ml {@code stream_import}): reads ova.xml (the archive may be gzip or
 * zstd compressed), checks the version, makes the records ({@link XvaObjects}), fills each new VDI
 * from its chunks with every checksum verified ({@link DiskChunks}), links snapshots to their VMs
 * and parents, and completes: the VMs leave their {@code import} operation and lose the {@link
 * XvaObjects#INCOMPLETE} mark.
 *
 * <p>Failure and crash safety: on any failure (bad checksum, truncated or malformed archive, a
 * storage error) everything the import made is destroyed, newest first ({@link ImportState}), VDIs
 * with their data on the SR, and the error is xapi's ({@code IMPORT_ERROR_PREMATURE_EOF}, {@code
 * IMPORT_ERROR_SOME_CHECKSUMS_FAILED}, {@code IMPORT_ERROR_UNEXPECTED_FILE}, {@code
 * IMPORT_ERROR_GENERIC}). With {@code force}, as in xapi, bad checksums are only logged and a
 * failed import is not cleaned up. A crash leaves records marked {@link XvaObjects#INCOMPLETE}
 * (written at once: imports run outside a XenAPI call's unit of work); {@link XvaRecovery} destroys
 * them at the next start.
 */
@ApplicationScoped
public class XvaImporter {
  private static final Logger LOG = Logger.getLogger(XvaImporter.class);
  private static final int MAX_OVA_XML_BYTES = 16 * 1024 * 1024;

  @Inject Database db;
  @Inject SrService storage;
  @Inject XvaObjects objects;
  @Inject XvaExporter exporter;
  @Inject VmOperations operations;

  /**
   * Imports the archive read from {@code in} into {@code sr}; returns the VMs as xapi's task result
   * lists them (the VMs that are not snapshots, or all if all are).
   *
   * @param task the import's task, recorded in what it makes
   * @param progress gets the fraction of disk bytes read
   */
  public List<Ref<Vm>> importArchive(
      InputStream in,
      Ref<Sr> sr,
      boolean fullRestore,
      boolean force,
      String task,
      DoubleConsumer progress)
      throws XenApiException {
    if (!db.exists(Sr.CLASS, sr)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "SR", sr.value());
    }
    if ("iso".equals(db.get(sr, Sr.CONTENT_TYPE))) {
      throw new XenApiException(XenApiError.SR_OPERATION_NOT_SUPPORTED, sr.value());
    }
    ImportState s = new ImportState();
    boolean done = false;
    try {
      TarInput tar = new TarInput(Compression.decompress(in));
      Header h = header(tar);
      noteVersion(h.version());
      objects.create(h, sr, new XvaObjects.Options(fullRestore, force), task, s);
      fill(tar, h, s, force, progress);
      List<Ref<Vm>> result = complete(h, s);
      done = true;
      return result;
    } catch (EOFException e) {
      throw new XenApiException(XenApiError.IMPORT_ERROR_PREMATURE_EOF, e.getMessage());
    } catch (DiskChunks.ChecksumException e) {
      throw new XenApiException(XenApiError.IMPORT_ERROR_SOME_CHECKSUMS_FAILED, e.getMessage());
    } catch (UnexpectedFile e) {
      throw new XenApiException(XenApiError.IMPORT_ERROR_UNEXPECTED_FILE, e.expected, e.actual);
    } catch (IOException e) {
      throw new XenApiException(XenApiError.IMPORT_ERROR_GENERIC, String.valueOf(e.getMessage()));
    } catch (SmException e) {
      throw new XenApiException(
          XenApiError.IMPORT_ERROR_GENERIC, e.error().name() + ": " + e.getMessage());
    } finally {
      if (!done) {
        if (force) {
          LOG.warnf("import (task %s) failed; not cleaned up, as force is set", task);
        } else {
          s.rollBack();
        }
      }
    }
  }

  private static Header header(TarInput tar) throws IOException {
    TarInput.Entry e = tar.next();
    if (e == null) {
      throw new EOFException("the archive is empty");
    }
    if (!e.name().equals(OvaXml.FILE_NAME)) {
      throw new UnexpectedFile(OvaXml.FILE_NAME, e.name());
    }
    if (e.sizeBytes() > MAX_OVA_XML_BYTES) {
      throw new XvaFormatException("ova.xml of " + e.sizeBytes() + " bytes: too large");
    }
    return OvaXml.decode(tar.readFile(e));
  }

  /**
   * xapi refuses an archive from a newer xapi ({@code IMPORT_INCOMPATIBLE_VERSION}). xsm does not:
   * its reader takes the fields it knows and defaults or ignores the rest, and refusing would make
   * every backup taken on a current XCP-ng or XenServer host (xapi 24 and later) unrestorable here.
   * The archive's version is logged.
   */
  private void noteVersion(OvaXml.Version v) throws XenApiException {
    OvaXml.Version mine = exporter.version();
    if (mine.xapiMajor() < v.xapiMajor()
        || (mine.xapiMajor() == v.xapiMajor() && mine.xapiMinor() < v.xapiMinor())) {
      LOG.infof(
          "importing an archive from xapi %d.%d, newer than the %d.%d this host reports; fields"
              + " this host does not know are ignored",
          v.xapiMajor(), v.xapiMinor(), mine.xapiMajor(), mine.xapiMinor());
    }
  }

  /** Reads each disk of the archive (xapi's {@code non_cdrom_vdis}, by id) into its new VDI. */
  private void fill(TarInput tar, Header h, ImportState s, boolean force, DoubleConsumer progress)
      throws IOException, SmException, XenApiException {
    List<ImportState.Target> disks = new ArrayList<>(s.disks);
    disks.removeIf(t -> !streamed(h, t.id()));
    disks.sort(Comparator.comparing(ImportState.Target::id));
    long total = 1;
    for (ImportState.Target t : disks) {
      total += t.sizeBytes();
    }
    long before = 0;
    for (ImportState.Target t : disks) {
      long size = t.sizeBytes();
      VdiDevice d = storage.activate(t.vdi(), true);
      try {
        long base = before;
        long all = total;
        DiskChunks.read(
            tar, t.id(), d, size, force, n -> progress.accept((double) (base + n) / all));
      } finally {
        storage.deactivate(t.vdi());
      }
      before += size;
    }
  }

  /** Whether the archive holds the VDI's data: a non-CD VBD uses it, or it is a suspend image. */
  private static boolean streamed(Header h, String vdiId) {
    XvaObject vdi = h.find(vdiId);
    if (vdi != null && "suspend".equals(ImportRecords.str(vdi.snapshot(), "type"))) {
      return true;
    }
    return h.of("VBD").stream()
        .anyMatch(
            b ->
                vdiId.equals(ImportRecords.str(b.snapshot(), "VDI"))
                    && !"CD".equalsIgnoreCase(ImportRecords.str(b.snapshot(), "type")));
  }

  private List<Ref<Vm>> complete(Header h, ImportState s) throws XenApiException {
    for (XvaObject x : h.of("VM")) {
      String made = s.table.get(x.id());
      if (made == null || !s.vms.contains(Ref.<Vm>of(made))) {
        continue;
      }
      Ref<Vm> vm = Ref.of(made);
      if (db.get(vm, Vm.IS_A_SNAPSHOT)) {
        db.set(
            vm,
            Vm.SNAPSHOT_OF,
            Ref.of(s.table.getOrDefault(str(x, "snapshot_of"), Ref.NULL_VALUE)));
      }
      db.set(vm, Vm.PARENT, Ref.of(s.table.getOrDefault(str(x, "parent"), Ref.NULL_VALUE)));
    }
    for (String ref : s.table.values()) {
      unmark(ref);
    }
    for (Ref<Vm> vm : s.vms) {
      db.set(vm, Vm.CURRENT_OPERATIONS, Map.of());
      operations.update(vm);
    }
    List<Ref<Vm>> plain = s.vms.stream().filter(vm -> !isSnapshot(vm)).toList();
    return plain.isEmpty() ? List.copyOf(s.vms) : plain;
  }

  private boolean isSnapshot(Ref<Vm> vm) {
    try {
      return db.get(vm, Vm.IS_A_SNAPSHOT);
    } catch (XenApiException e) {
      throw new IllegalStateException("a VM made by this import is gone: " + vm, e);
    }
  }

  private void unmark(String ref) throws XenApiException {
    var cls = db.classOf(ref);
    if (cls == Vm.CLASS) {
      db.modify(
          Vm.CLASS, Ref.of(ref), r -> without(Vm.CLASS, Vm.OTHER_CONFIG, r.get(Vm.OTHER_CONFIG)));
    } else if (cls == Vdi.CLASS) {
      db.modify(
          Vdi.CLASS,
          Ref.of(ref),
          r -> without(Vdi.CLASS, Vdi.OTHER_CONFIG, r.get(Vdi.OTHER_CONFIG)));
    } else if (cls == Network.CLASS) {
      db.modify(
          Network.CLASS,
          Ref.of(ref),
          r -> without(Network.CLASS, Network.OTHER_CONFIG, r.get(Network.OTHER_CONFIG)));
    }
  }

  private static <C> org.xsm.server.model.Values<C> without(
      org.xsm.server.model.XClass<C> cls,
      org.xsm.server.model.Field<C, Map<String, String>> f,
      Map<String, String> m) {
    Map<String, String> copy = new java.util.LinkedHashMap<>(m);
    copy.remove(XvaObjects.INCOMPLETE);
    return org.xsm.server.model.Values.of(cls).with(f, copy);
  }

  private static String str(XvaObject x, String field) {
    return ImportRecords.str(x.snapshot(), field);
  }

  /** The first file is not ova.xml. */
  static final class UnexpectedFile extends XvaFormatException {
    final String expected;
    final String actual;

    UnexpectedFile(String expected, String actual) {
      super("expected " + expected + ", found " + actual);
      this.expected = expected;
      this.actual = actual;
    }
  }
}
