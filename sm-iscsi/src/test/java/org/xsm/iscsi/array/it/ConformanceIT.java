package org.xsm.iscsi.array.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xsm.iscsi.array.pool.LunInfo;

/**
 * libiscsi's compliance suite (iscsi-test-cu) against the array, one suite per run. Every test of
 * these suites must pass, none may be skipped for a missing feature. The comparison with tgtd on
 * all suites is {@code sm-iscsi/scripts/conformance-vs-tgtd.sh}.
 */
class ConformanceIT {
  private static final Pattern TESTS =
      Pattern.compile("tests\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)");

  private static final String[] BY_DESIGN = {
    "PERSISTENT RESERVE IN is not implemented.",
    "REPORT_SUPPORTED_OPCODES is not implemented.",
    "COMPAREANDWRITE is not implemented.",
    "ORWRITE is not implemented.",
    "WRITESAME10 does not support 0-blocks.",
    "WRITESAME16 does not support 0-blocks.",
    "Media is not removable."
  };

  @TempDir static Path dir;
  private static RunningArray array;
  private static int snapshotLun;

  @BeforeAll
  static void start() throws Exception {
    array = RunningArray.start(dir.resolve("pool"), null, null);
    LunInfo disk = array.create("disk", 128L << 20);
    assertThat(disk.lun()).isZero();
    snapshotLun = array.pool.luns().snapshot(disk.id(), "snap", Map.of()).lun();
  }

  @AfterAll
  static void stop() throws Exception {
    array.close();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SCSI.Inquiry",
        "SCSI.ReadCapacity10",
        "SCSI.ReadCapacity16",
        "SCSI.TestUnitReady",
        "SCSI.Read6",
        "SCSI.Read10",
        "SCSI.Read12",
        "SCSI.Read16",
        "SCSI.Write10",
        "SCSI.Write12",
        "SCSI.Write16",
        "SCSI.WriteSame10",
        "SCSI.WriteSame16",
        "SCSI.Unmap",
        "SCSI.Verify10",
        "SCSI.Verify16",
        "SCSI.WriteVerify10",
        "SCSI.WriteVerify16",
        "SCSI.Prefetch10",
        "SCSI.Prefetch16",
        "SCSI.ModeSense6",
        "SCSI.Mandatory",
        "SCSI.NoMedia",
        "SCSI.StartStopUnit",
        "iSCSI.iSCSIResiduals",
        "iSCSI.iSCSIcmdsn"
      })
  void suitePassesOnAWritableLun(String suite) throws Exception {
    assertAllPass(suite, 0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"SCSI.ReadOnly"})
  void snapshotLunIsWriteProtected(String suite) throws Exception {
    String out = assertAllPass(suite, snapshotLun);
    assertThat(out).doesNotContain("Logical unit is not write-protected");
  }

  private static String assertAllPass(String suite, int lun) throws Exception {
    Tools.Result r =
        Tools.run(
            300,
            "iscsi-test-cu",
            "--dataloss",
            "-i",
            "iqn.2026-11.org.xsm:conformance-1",
            "-I",
            "iqn.2026-11.org.xsm:conformance-2",
            "--test=" + suite,
            array.url(lun));
    Matcher m = TESTS.matcher(r.output());
    assertThat(m.find()).as("summary of %s in:%n%s", suite, r.output()).isTrue();
    int total = Integer.parseInt(m.group(1));
    int passed = Integer.parseInt(m.group(3));
    int failed = Integer.parseInt(m.group(4));
    assertThat(failed).as("failures in %s:%n%s", suite, r.output()).isZero();
    assertThat(passed).isEqualTo(total).isPositive();
    // Skips that follow from what the array says it is (WSNZ=1 in the Block Limits page, a
    // non-removable medium) or from optional commands it does not have.
    String skipped = r.output();
    for (String byDesign : BY_DESIGN) {
      skipped = skipped.replace("[SKIPPED] " + byDesign, "");
    }
    assertThat(skipped).as("skips in %s", suite).doesNotContain("[SKIPPED]");
    System.out.printf("iscsi-test-cu %s: %d/%d passed%n", suite, passed, total);
    return r.output();
  }
}
