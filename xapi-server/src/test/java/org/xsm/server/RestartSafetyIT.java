package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.Network;
import com.xensource.xenapi.PBD;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import com.xensource.xenapi.XenAPIObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xsm.plugins.filesr.VhdTree;
import org.xsm.plugins.store.LocalImageStore;

/**
 * Restart safety of the packaged server ({@code quarkus-run.jar}, run as a child process and driven
 * by the XenServer Java SDK): every record and every VDI survives a clean stop (SIGTERM) and a kill
 * -9, a scan after the restart adds, removes and duplicates nothing, and the SDK can go on.
 *
 * <p>What a restart may change is what {@code Bootstrap} and {@code VmService.haltAllAfterRestart}
 * change on purpose: sessions are dropped; a VM that was Running or Paused becomes Halted with
 * domid -1 and no resident host (a Suspended one keeps its state); every VBD is unplugged.
 * Everything else must come back exactly as it was.
 */
class RestartSafetyIT {
  private static final long MIB = 1024 * 1024;
  private static final String PASSWORD = "restart-it-pw";
  private static final Pattern VHD_FILE =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.vhd");

  /** The classes compared across a restart (session is not: sessions do not survive). */
  private static final List<String> CLASSES =
      List.of("VM", "VBD", "VDI", "SR", "PBD", "host", "pool", "network");

  private final List<Server> servers = new ArrayList<>();

  @AfterEach
  void stopServers() throws Exception {
    for (Server s : servers) {
      s.process.destroyForcibly();
      s.process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  // ---- the scenarios ----

  @Test
  void recordsSurviveACleanStopAndAKill9AfterABurstOfWrites() throws Exception {
    Path data = newDataDir("records");
    Server s1 = start(data);
    Connection c = s1.login();
    Fixture fx = populate(c);
    refreshSrFigures(c);
    Map<String, Map<String, Map<String, Object>>> before = snapshotAll(c);
    assertThat(before.get("VM").get(fx.running).get("power_state")).isEqualTo("Running");
    assertThat(before.get("VM").get(fx.paused).get("power_state")).isEqualTo("Paused");
    assertThat(before.get("VM").get(fx.suspended).get("power_state")).isEqualTo("Suspended");
    assertThat(before.get("VBD").values())
        .anySatisfy(r -> assertThat(r.get("currently_attached")).isEqualTo(true));

    // (a) clean stop: SIGTERM, wait for the exit, start again on the same data directory.
    s1.stop();
    Server s2 = start(data);
    c = s2.login();
    Map<String, Map<String, Map<String, Object>>> after = snapshotAll(c);
    assertSameAfterRestart(before, after);
    assertThat(assertScanChangesNothing(c, data))
        .as("garbage files (nothing was deleted)")
        .isZero();
    goOn(c);

    // (b) a burst of writes, a snapshot of the state, more writes whose effect is known, kill -9.
    VM.Record vm = vmRecord("burst-vm");
    List<String> burstVdis = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      VDI v = newVdi(c, "burst-" + i, 4 * MIB, Map.of("burst", String.valueOf(i)));
      burstVdis.add(v.toWireString());
    }
    for (int i = 0; i < 4; i++) {
      vm.nameLabel = "burst-vm-" + i;
      VM b = VM.create(c, vm);
      for (int d = 0; d < 3; d++) {
        newVbd(c, b, Types.toVDI(burstVdis.get(d + (i % 2) * 3)), String.valueOf(d));
      }
      b.addToOtherConfig(c, "burst", String.valueOf(i));
    }
    VDI burstSnap = Types.toVDI(burstVdis.get(0)).snapshot(c, Map.of());
    Types.toVDI(burstVdis.get(5)).destroy(c);
    Types.toVM(fx.running).start(c, false, false); // halted by the first restart; running again
    refreshSrFigures(c);
    Map<String, Map<String, Map<String, Object>>> expected = snapshotAll(c);
    assertThat(expected.get("VDI")).containsKey(burstSnap.toWireString());

    // The last writes: their effect is applied to the expected state by hand, and the server is
    // killed the moment the last one returns.
    List<String> vdiRefs = new ArrayList<>(expected.get("VDI").keySet());
    List<String> vmRefs = new ArrayList<>(expected.get("VM").keySet());
    for (int i = 0; i < 20; i++) {
      String vdi = vdiRefs.get(i % vdiRefs.size());
      String label = "renamed-" + i;
      Types.toVDI(vdi).setNameLabel(c, label);
      expected.get("VDI").get(vdi).put("name_label", label);
      String vmRef = vmRefs.get(i % vmRefs.size());
      String desc = "described-" + i;
      Types.toVM(vmRef).setNameDescription(c, desc);
      expected.get("VM").get(vmRef).put("name_description", desc);
    }
    VM last = Types.toVM(vmRefs.get(0));
    last.addToOtherConfig(c, "last-write", "yes");
    @SuppressWarnings("unchecked")
    Map<String, Object> oc =
        (Map<String, Object>) expected.get("VM").get(last.toWireString()).get("other_config");
    oc.put("last-write", "yes");
    s2.kill9();

    Server s3 = start(data);
    c = s3.login();
    assertSameAfterRestart(expected, snapshotAll(c));
    // the snapshot goOn destroyed left its base copy as garbage
    assertThat(assertScanChangesNothing(c, data)).as("garbage files").isBetween(0, 1);
    goOn(c);
    s3.stop();
  }

  @Test
  void kill9DuringAStreamOfVdiCreates() throws Exception {
    Path data = newDataDir("stream");
    Server s1 = start(data);
    URL url = s1.url();
    int threads = 3;
    Map<String, String> returned = new ConcurrentHashMap<>(); // ref -> seq
    AtomicReference<Throwable> unexpected = new AtomicReference<>();
    List<Thread> writers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Connection c = s1.login();
      Thread w =
          new Thread(
              () -> {
                for (int i = 0; ; i++) {
                  String seq = id + "-" + i;
                  VDI v;
                  try {
                    v = newVdi(c, "stream-" + seq, 2 * MIB, Map.of("seq", seq));
                  } catch (Exception e) {
                    if (!s1.killed) {
                      unexpected.compareAndSet(null, e);
                    }
                    return; // the server is gone: this call's outcome is unknown
                  }
                  returned.put(v.toWireString(), seq);
                }
              },
              "vdi-create-" + t);
      w.start();
      writers.add(w);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (returned.size() < 30 && System.nanoTime() < deadline && unexpected.get() == null) {
      Thread.sleep(5);
    }
    s1.kill9();
    for (Thread w : writers) {
      w.join(30_000);
      assertThat(w.isAlive()).as("writer thread ended").isFalse();
    }
    assertThat(unexpected.get()).as("a create failed while the server was up").isNull();
    assertThat(returned)
        .as("creates that returned before the kill")
        .hasSizeGreaterThanOrEqualTo(30);
    assertThat(url).isNotNull();

    Server s2 = start(data);
    Connection c = s2.login();
    Map<VDI, VDI.Record> all = VDI.getAllRecords(c);
    Map<String, List<String>> refsBySeq = new HashMap<>();
    for (Map.Entry<VDI, VDI.Record> e : all.entrySet()) {
      String seq = e.getValue().otherConfig == null ? null : e.getValue().otherConfig.get("seq");
      if (seq != null) {
        refsBySeq.computeIfAbsent(seq, k -> new ArrayList<>()).add(e.getKey().toWireString());
      }
    }
    for (Map.Entry<String, String> e : returned.entrySet()) {
      VDI.Record r = all.get(Types.toVDI(e.getKey()));
      if (r == null) {
        List<String> sameName = new ArrayList<>();
        all.forEach(
            (k, v) -> {
              if (("stream-" + e.getValue()).equals(v.nameLabel)) {
                sameName.add(k.toWireString() + " other_config=" + v.otherConfig);
              }
            });
        fail(
            "VDI %s (seq %s), whose create returned before the kill, is lost (%d of %d returned"
                + " creates are); VDIs of that name now: %s",
            e.getKey(),
            e.getValue(),
            returned.keySet().stream().filter(x -> !all.containsKey(Types.toVDI(x))).count(),
            returned.size(),
            sameName);
      }
      assertThat(r.nameLabel).isEqualTo("stream-" + e.getValue());
      assertThat(r.virtualSize).isEqualTo(2 * MIB);
      assertThat(refsBySeq.get(e.getValue()))
          .as("records of seq %s", e.getValue())
          .containsExactly(e.getKey());
    }
    // Besides those, at most the calls in flight at the kill (one per writer) left a VDI.
    Set<String> extra = new HashSet<>();
    for (VDI v : all.keySet()) {
      extra.add(v.toWireString());
    }
    extra.removeAll(returned.keySet());
    assertThat(extra).as("VDIs whose create had not returned").hasSizeLessThanOrEqualTo(threads);
    assertThat(assertScanChangesNothing(c, data)).as("garbage files").isZero();
    goOn(c);
    s2.stop();
  }

  // ---- what is created before a restart ----

  /** References of the VMs in each power state. */
  record Fixture(String running, String paused, String suspended, String halted) {}

  private static Fixture populate(Connection c) throws Exception {
    VDI a = newVdi(c, "disk-a", 8 * MIB, Map.of("role", "system"));
    VDI b = newVdi(c, "disk-b", 16 * MIB, Map.of());
    VDI d = newVdi(c, "disk-c", 4 * MIB, Map.of("k", "v"));
    VDI e = newVdi(c, "disk-d", 4 * MIB, Map.of());
    a.setNameDescription(c, "the system disk");
    a.addTags(c, "important");
    b.addToOtherConfig(c, "added", "later");
    b.setNameLabel(c, "disk-b-renamed");
    VDI snap = a.snapshot(c, Map.of());
    snap.setNameLabel(c, "disk-a-snapshot");
    VDI clone = snap.createClone(c, Map.of());
    clone.setNameLabel(c, "disk-a-clone");
    VDI clone2 = b.createClone(c, Map.of());

    VM halted = VM.create(c, vmRecord("halted"));
    newVbd(c, halted, a, "0");
    newVbd(c, halted, clone, "1");
    VBD cd = newVbd(c, halted, Types.toVDI("OpaqueRef:NULL"), "3");
    cd.addToOtherConfig(c, "cd", "true");
    halted.setNameDescription(c, "never started");
    halted.addToOtherConfig(c, "owner", "restart-it");
    halted.addTags(c, "restart");

    VM running = VM.create(c, vmRecord("running"));
    newVbd(c, running, b, "0");
    newVbd(c, running, clone2, "1");
    running.start(c, false, false);
    VM paused = VM.create(c, vmRecord("paused"));
    newVbd(c, paused, d, "0");
    paused.start(c, true, false);
    VM suspended = VM.create(c, vmRecord("suspended"));
    newVbd(c, suspended, e, "0");
    suspended.start(c, false, false);
    suspended.suspend(c);
    return new Fixture(
        running.toWireString(),
        paused.toWireString(),
        suspended.toWireString(),
        halted.toWireString());
  }

  /** After a restart: create, snapshot and destroy still work. */
  /**
   * XenAPI.py after a kill -9 and a restart: its old event token gets EVENTS_LOST, event.from with
   * an empty token gives every object again (the event log is in memory, the objects are not), and
   * a blob's bytes written before are still there (the script checks, {@code src/test/clients}).
   */
  @Test
  void xenApiPyEventsAndBlobsAfterARestart() throws Exception {
    Path data = newDataDir("events");
    Server s1 = start(data);
    ChildProcess.Result before = restartScript(s1, List.of("before"));
    java.util.regex.Matcher m =
        Pattern.compile("TOKEN (\\S+) VDI (\\S+) BLOB (\\S+)").matcher(before.output());
    assertThat(m.find()).as(before.output()).isTrue();
    s1.kill9();
    Server s2 = start(data);
    restartScript(s2, List.of("after", m.group(1), m.group(2), m.group(3)));
  }

  private static ChildProcess.Result restartScript(Server s, List<String> args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "/usr/bin/python3",
                Path.of("src/test/clients/xenapi_py_restart_test.py").toString(),
                "http://127.0.0.1:" + s.port,
                "root",
                PASSWORD));
    cmd.addAll(args);
    ChildProcess.Result r = ChildProcess.run(cmd, null, 180);
    assertThat(r.exit() == 0 && r.output().contains("xenapi_py_restart_test: all checks passed"))
        .as("xenapi_py_restart_test.py %s:\n%s", args.get(0), r.output())
        .isTrue();
    return r;
  }

  private static void goOn(Connection c) throws Exception {
    int before = VDI.getAll(c).size();
    VDI v = newVdi(c, "after-restart", 4 * MIB, Map.of("after", "restart"));
    assertThat(v.getOtherConfig(c)).containsEntry("after", "restart");
    VM vm = VM.create(c, vmRecord("after-restart"));
    VBD vbd = newVbd(c, vm, v, "0");
    vm.start(c, false, false);
    assertThat(vbd.getCurrentlyAttached(c)).isTrue();
    vm.hardShutdown(c);
    vm.destroy(c);
    VDI s = v.snapshot(c, Map.of());
    assertThat(s.getSnapshotOf(c)).isEqualTo(v);
    s.destroy(c);
    v.destroy(c);
    assertThat(VDI.getAll(c)).doesNotContain(v, s);
    // a snapshot leaves a base copy behind until the garbage collector folds it
    assertThat(VDI.getAll(c).size()).isBetween(before, before + 1);
  }

  private static VDI newVdi(Connection c, String name, long size, Map<String, String> other)
      throws Exception {
    return SdkTest.newVdi(c, Pool.getAll(c).iterator().next().getDefaultSR(c), name, size, other);
  }

  private static VM.Record vmRecord(String name) {
    VM.Record r = new VM.Record();
    r.nameLabel = name;
    r.nameDescription = "";
    r.memoryStaticMax = 256 * MIB;
    r.memoryDynamicMax = 256 * MIB;
    r.memoryDynamicMin = 256 * MIB;
    r.memoryStaticMin = 256 * MIB;
    r.VCPUsMax = 2L;
    r.VCPUsAtStartup = 1L;
    r.isATemplate = false;
    r.otherConfig = Map.of("created-by", "restart-it");
    return r;
  }

  private static VBD newVbd(Connection c, VM vm, VDI vdi, String userdevice) throws Exception {
    VBD.Record b = new VBD.Record();
    b.VM = vm;
    b.VDI = vdi;
    b.userdevice = userdevice;
    b.mode = vdi.isNull() ? Types.VbdMode.RO : Types.VbdMode.RW;
    b.type = vdi.isNull() ? Types.VbdType.CD : Types.VbdType.DISK;
    b.bootable = "0".equals(userdevice);
    b.empty = vdi.isNull();
    b.otherConfig = Map.of("userdevice", userdevice);
    b.qosAlgorithmParams = Map.of();
    b.qosAlgorithmType = "";
    return VBD.create(c, b);
  }

  // ---- the state and its comparison ----

  /**
   * SR.scan, so the SR's size figures (refreshed by every scan, as the one at startup) are current
   * in the state taken before a restart.
   */
  private static void refreshSrFigures(Connection c) throws Exception {
    Pool.getAll(c).iterator().next().getDefaultSR(c).scan(c);
  }

  /** class -> ref -> record (normalized: refs as strings, sets sorted, dates as instants). */
  private static Map<String, Map<String, Map<String, Object>>> snapshotAll(Connection c)
      throws Exception {
    Map<String, Map<String, Map<String, Object>>> m = new LinkedHashMap<>();
    m.put("VM", records(VM.getAllRecords(c)));
    m.put("VBD", records(VBD.getAllRecords(c)));
    m.put("VDI", records(VDI.getAllRecords(c)));
    m.put("SR", records(SR.getAllRecords(c)));
    m.put("PBD", records(PBD.getAllRecords(c)));
    m.put("host", records(Host.getAllRecords(c)));
    m.put("pool", records(Pool.getAllRecords(c)));
    m.put("network", records(Network.getAllRecords(c)));
    assertThat(m.keySet()).containsExactlyElementsOf(CLASSES);
    return m;
  }

  private static Map<String, Map<String, Object>> records(
      Map<? extends XenAPIObject, ? extends Types.Record> all) {
    Map<String, Map<String, Object>> out = new TreeMap<>();
    for (Map.Entry<? extends XenAPIObject, ? extends Types.Record> e : all.entrySet()) {
      Map<String, Object> r = new TreeMap<>();
      for (Map.Entry<String, Object> f : recordMap(e.getValue()).entrySet()) {
        r.put(f.getKey(), normalize(f.getValue()));
      }
      out.put(e.getKey().toWireString(), r);
    }
    return out;
  }

  private static Map<String, Object> recordMap(Types.Record r) {
    if (r instanceof VM.Record x) {
      return x.toMap();
    } else if (r instanceof VBD.Record x) {
      return x.toMap();
    } else if (r instanceof VDI.Record x) {
      return x.toMap();
    } else if (r instanceof SR.Record x) {
      return x.toMap();
    } else if (r instanceof PBD.Record x) {
      return x.toMap();
    } else if (r instanceof Host.Record x) {
      return x.toMap();
    } else if (r instanceof Pool.Record x) {
      return x.toMap();
    } else if (r instanceof Network.Record x) {
      return x.toMap();
    }
    throw new IllegalArgumentException(r.getClass().getName());
  }

  private static Object normalize(Object v) {
    if (v instanceof XenAPIObject o) {
      return o.toWireString();
    } else if (v instanceof Collection<?> s) {
      Set<Object> out = new TreeSet<>();
      for (Object x : s) {
        out.add(String.valueOf(normalize(x)));
      }
      return out;
    } else if (v instanceof Map<?, ?> m) {
      Map<String, Object> out = new TreeMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        out.put(String.valueOf(e.getKey()), normalize(e.getValue()));
      }
      return out;
    } else if (v instanceof Date d) {
      return d.toInstant().toString();
    } else if (v instanceof Enum<?> e) {
      return e.toString();
    }
    return v;
  }

  /**
   * The state after a restart is the state before, with exactly the changes a restart makes: VMs
   * that were Running or Paused are Halted, domid -1, resident_on NULL (but the control domain,
   * which runs on); every VBD is unplugged.
   */
  private static void assertSameAfterRestart(
      Map<String, Map<String, Map<String, Object>>> before,
      Map<String, Map<String, Map<String, Object>>> after) {
    Set<String> vmsReset = new TreeSet<>();
    int vbdsReset = 0;
    for (String cls : CLASSES) {
      Map<String, Map<String, Object>> b = before.get(cls);
      Map<String, Map<String, Object>> a = after.get(cls);
      assertThat(a.keySet()).as("%s references after the restart", cls).isEqualTo(b.keySet());
      for (Map.Entry<String, Map<String, Object>> e : b.entrySet()) {
        Map<String, Object> expected = new TreeMap<>(e.getValue());
        if (cls.equals("VM")) {
          Object state = expected.get("power_state");
          // The control domain is no simulated domain: it runs on across restarts.
          boolean dom0 = Boolean.TRUE.equals(expected.get("is_control_domain"));
          if (!dom0 && ("Running".equals(state) || "Paused".equals(state))) {
            expected.put("power_state", "Halted");
            expected.put("domid", -1L);
            expected.put("resident_on", "OpaqueRef:NULL");
            // The domain's guest agent and console went with it, and a halted VM allows what
            // a halted VM allows (checked below rather than copied from the running record).
            expected.put("guest_metrics", "OpaqueRef:NULL");
            expected.put("consoles", a.get(e.getKey()).get("consoles"));
            expected.put("allowed_operations", a.get(e.getKey()).get("allowed_operations"));
            assertThat((Collection<?>) a.get(e.getKey()).get("consoles"))
                .as("consoles after the restart")
                .isEmpty();
            assertThat(
                    new ArrayList<Object>(
                        (Collection<?>) a.get(e.getKey()).get("allowed_operations")))
                .as("allowed operations of a VM the restart halted")
                .contains("start", "destroy")
                .doesNotContain("hard_shutdown", "unpause", "clean_shutdown");
            vmsReset.add(e.getKey());
          }
        } else if (cls.equals("VBD")) {
          if (Boolean.TRUE.equals(expected.get("currently_attached"))) {
            expected.put("currently_attached", false);
            vbdsReset++;
          }
          if (vmsReset.contains(String.valueOf(expected.get("VM")))) {
            // A device of a halted VM: it may be attached at the next start, no more plugged.
            Object ops = a.get(e.getKey()).get("allowed_operations");
            assertThat(new ArrayList<Object>((Collection<?>) ops))
                .as("allowed operations of a VBD of a VM the restart halted")
                .contains("attach")
                .doesNotContain("plug", "unplug", "unpause");
            expected.put("allowed_operations", ops);
          }
        } else if (cls.equals("host")) {
          // resident_VMs is the inverse of VM.resident_on
          @SuppressWarnings("unchecked")
          Set<Object> resident = new TreeSet<>((Set<Object>) expected.get("resident_VMs"));
          resident.removeAll(vmsReset);
          expected.put("resident_VMs", resident);
        }
        assertThat(a.get(e.getKey()))
            .as("%s %s after the restart", cls, e.getKey())
            .isEqualTo(expected);
      }
    }
    assertThat(vmsReset).as("VMs the restart halted").isNotEmpty();
    assertThat(vbdsReset).as("VBDs the restart unplugged").isPositive();
  }

  /**
   * After a restart: SR.scan adds, removes and changes no VDI; no two VDIs share a UUID or a
   * location; every VDI has its data file on the SR and every data file has its VDI, or is garbage
   * left for the GC.
   *
   * @return the number of garbage files
   */
  private static int assertScanChangesNothing(Connection c, Path data) throws Exception {
    Map<String, Map<String, Object>> before = records(VDI.getAllRecords(c));
    SR sr = Pool.getAll(c).iterator().next().getDefaultSR(c);
    sr.scan(c);
    Map<String, Map<String, Object>> after = records(VDI.getAllRecords(c));
    assertThat(after).as("VDI records after SR.scan").isEqualTo(before);

    Set<String> uuids = new HashSet<>();
    Set<String> locations = new HashSet<>();
    for (Map.Entry<String, Map<String, Object>> e : after.entrySet()) {
      assertThat(uuids.add((String) e.getValue().get("uuid")))
          .as("VDI uuid %s is unique", e.getValue().get("uuid"))
          .isTrue();
      assertThat(locations.add((String) e.getValue().get("location")))
          .as("VDI location %s is unique", e.getValue().get("location"))
          .isTrue();
    }
    Path dir = Path.of(sr.getPBDs(c).iterator().next().getDeviceConfig(c).get("path"));
    assertThat(dir).startsWith(data);
    Set<String> files = new TreeSet<>();
    try (Stream<Path> list = Files.list(dir)) {
      list.map(p -> p.getFileName().toString())
          .filter(n -> VHD_FILE.matcher(n).matches())
          .forEach(n -> files.add(n.substring(0, n.length() - ".vhd".length())));
    }
    Set<String> noFile = new TreeSet<>(locations);
    noFile.removeAll(files);
    assertThat(noFile).as("VDI locations without a data file in %s", dir).isEmpty();
    // A data file without a VDI is allowed only if scan leaves it out on purpose: garbage (a hidden
    // node no VDI reads through), which the GC deletes after its quiet period (5 minutes).
    Set<String> noRecord = new TreeSet<>(files);
    noRecord.removeAll(locations);
    if (!noRecord.isEmpty()) {
      VhdTree tree = VhdTree.read(LocalImageStore.open(dir));
      for (String u : noRecord) {
        VhdTree.Node n = tree.get(u);
        assertThat(n != null && tree.isGarbage(n))
            .as("data file %s.vhd has no VDI and is not garbage", u)
            .isTrue();
      }
    }
    return noRecord.size();
  }

  // ---- the server process ----

  /** The environment that chooses the server's database: none here (H2 in the data directory). */
  Map<String, String> databaseEnv(Path data) throws Exception {
    return Map.of();
  }

  private static Path newDataDir(String name) throws IOException {
    Path base = Path.of(System.getProperty("xsm.it.dir", "target/restart-it")).toAbsolutePath();
    Files.createDirectories(base);
    return Files.createTempDirectory(base, name + "-");
  }

  private Server start(Path data) throws Exception {
    String jar = System.getProperty("xsm.server.jar", "target/quarkus-app/quarkus-run.jar");
    assertThat(Path.of(jar)).as("the packaged server").exists();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = data.resolveSibling(data.getFileName() + "-server-" + servers.size() + ".log");
    ProcessBuilder pb =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-jar",
            Path.of(jar).toAbsolutePath().toString());
    pb.environment().put("XSM_ROOT_PASSWORD", PASSWORD);
    pb.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
    pb.environment().put("XSM_DATA_DIR", data.toString());
    // Free ports for HTTPS and NBD, so that no other server on this machine is in the way.
    pb.environment().put("XSM_HTTPS_PORT", "0");
    pb.environment().put("XSM_NBD_PORT", "0");
    // Simulated domains: what this test checks of VMs is that none survives a restart.
    pb.environment().put("XSM_DOMAINS", "simulator");
    // The collector stays out of these tests: they compare the SR's figures across restarts, and a
    // coalesce or delete finishing between two snapshots of the state would change them (the
    // collector's own crash safety is GcCrashIT's). Its quiet period starts with the first SR.
    pb.environment().put("XSM_GC_QUIET_PERIOD_MS", "3600000");
    pb.environment().putAll(databaseEnv(data));
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Server s = new Server(pb.start(), port, log);
    servers.add(s);
    s.awaitReady();
    return s;
  }

  /** A running server: its process, port and log file. */
  private static final class Server {
    final Process process;
    final int port;
    final Path log;
    volatile boolean killed;

    Server(Process process, int port, Path log) {
      this.process = process;
      this.port = port;
      this.log = log;
    }

    URL url() throws Exception {
      return new URL("http://127.0.0.1:" + port + "/");
    }

    String log() {
      try {
        return Files.readString(log, StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }

    /**
     * Waits for Bootstrap's "ready" line (the DB is loaded, PBDs plugged and SRs scanned) and
     * Quarkus's "Listening on" (the HTTP server is up; it starts after the startup observers).
     */
    void awaitReady() throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          fail("the server exited with " + process.exitValue() + ":\n" + log());
        }
        String l = log();
        if (l.contains("xsm XenAPI server ready") && l.contains("Listening on:")) {
          return;
        }
        Thread.sleep(50);
      }
      fail("the server did not get ready within 120 s:\n" + log());
    }

    Connection login() throws Exception {
      Connection c = new Connection(url());
      Session.loginWithPassword(c, "root", PASSWORD, "2.21");
      return c;
    }

    /** SIGTERM, and the exit it leads to. */
    void stop() throws Exception {
      process.destroy();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the server stops on SIGTERM").isTrue();
    }

    /** SIGKILL: no shutdown hook, no flush. */
    void kill9() throws Exception {
      killed = true;
      process.destroyForcibly();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the server dies on SIGKILL").isTrue();
    }
  }
}
