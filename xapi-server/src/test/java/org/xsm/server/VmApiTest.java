package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.xensource.xenapi.Types;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.vm.VmOperations;
import org.xsm.server.vm.VmOperations.Op;

/**
 * The VM classes' messages against the SDK 8.1.0 (every one answered, none of xapi's missing, none
 * that xapi has not), current operations while an operation runs, and BIOS strings.
 */
@QuarkusTest
class VmApiTest extends VmTestBase {
  @Inject Dispatcher dispatcher;
  @Inject VmOperations operations;
  @Inject Database db;

  @Test
  void everyMessageOfTheVmClassesAnswers() throws Exception {
    List<String> missing = new ArrayList<>();
    int total = 0;
    for (String cls :
        List.of("VM", "VBD", "VIF", "VGPU", "VTPM", "Console", "VMMetrics", "VMGuestMetrics")) {
      for (String m : SdkMessages.of(cls)) {
        total++;
        if (!SdkMessages.registered(dispatcher).contains(m)) {
          missing.add(m);
        }
      }
    }
    System.out.printf(
        "VM classes: %d of %d SDK messages answered%n", total - missing.size(), total);
    assertThat(total).isGreaterThan(350);
    assertThat(missing).isEmpty();
    // Only xapi's own messages: what the server lists for these classes is the SDK's, but for
    // VTPM.get_all(_records), which xapi added after the SDK 8.1.0.
    Set<String> sdk = new java.util.TreeSet<>();
    for (String cls :
        List.of("VM", "VBD", "VIF", "VGPU", "VTPM", "Console", "VMMetrics", "VMGuestMetrics")) {
      sdk.addAll(SdkMessages.of(cls));
    }
    sdk.addAll(List.of("VTPM.get_all", "VTPM.get_all_records"));
    assertThat(
            SdkMessages.registered(dispatcher).stream()
                .filter(
                    m ->
                        m.matches(
                            "(VM|VBD|VIF|VGPU|VTPM|console|VM_metrics|VM_guest_metrics)\\..*"))
                .filter(m -> !sdk.contains(m)))
        .isEmpty();
  }

  @Test
  void biosStringsAsXapiSetsThem() throws Exception {
    VM vm = newVm("bios");
    assertThat(vm.getBiosStrings(c)).isEmpty();
    assertThat(fails("VM.set_bios_strings", vm, Map.of("oem-1", "x")))
        .containsExactly("INVALID_VALUE", "oem-1", "Unknown key");
    assertThat(fails("VM.set_bios_strings", vm, Map.of("system-version", "")))
        .containsExactly("INVALID_VALUE", "system-version", "Value provided is empty");
    vm.setBiosStrings(c, Map.of("system-manufacturer", "xsm"));
    assertThat(vm.getBiosStrings(c))
        .containsEntry("system-manufacturer", "xsm")
        .containsEntry("bios-vendor", "Xen");
    assertThat(fails("VM.set_bios_strings", vm, Map.of("system-version", "2")))
        .containsExactly("VM_BIOS_STRINGS_ALREADY_SET");
    assertThat(fails("VM.add_to_bios_strings", vm, "k", "v").get(0))
        .isEqualTo("MESSAGE_METHOD_UNKNOWN");
    VM other = newVm("bios-generic");
    other.start(c, false, false);
    assertThat(other.getBiosStrings(c)).containsEntry("system-product-name", "HVM domU");
    other.hardShutdown(c);
  }

  @Test
  void currentOperationsListRunningOnesAndExcludeConflictingOnes() throws Exception {
    VM vm = newVm("busy");
    Ref<Vm> ref = Ref.of(vm.toWireString());
    db.beginCall();
    try {
      operations.during(
          ref,
          Op.CLONE,
          "OpaqueRef:task-1",
          () -> {
            assertThat(db.get(ref, Vm.CURRENT_OPERATIONS))
                .containsExactly(Map.entry("OpaqueRef:task-1", "clone"));
            assertThat(db.get(ref, Vm.ALLOWED_OPERATIONS))
                .contains("clone", "copy", "export")
                .doesNotContain("start", "destroy", "snapshot");
            XenApiException e =
                catchThrowableOfType(
                    () -> operations.during(ref, Op.START, "OpaqueRef:task-2", () -> ""),
                    XenApiException.class);
            assertThat(e.errorDescription())
                .containsExactly(
                    "OTHER_OPERATION_IN_PROGRESS", "VM", ref.value(), "clone", "OpaqueRef:task-1");
            assertThat(operations.during(ref, Op.COPY, null, () -> "copied")).isEqualTo("copied");
            return "";
          });
    } finally {
      db.endCall();
    }
    assertThat(vm.getCurrentOperations(c)).isEmpty();
    assertThat(vm.getAllowedOperations(c)).contains(Types.VmOperations.START);
  }
}
