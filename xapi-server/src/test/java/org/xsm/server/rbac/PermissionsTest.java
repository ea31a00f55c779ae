package org.xsm.server.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xsm.server.model.StaticRole.POOL_ADMIN;
import static org.xsm.server.model.StaticRole.POOL_OPERATOR;
import static org.xsm.server.model.StaticRole.READ_ONLY;
import static org.xsm.server.model.StaticRole.VM_ADMIN;
import static org.xsm.server.model.StaticRole.VM_OPERATOR;
import static org.xsm.server.model.StaticRole.VM_POWER_ADMIN;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.xsm.server.model.StaticRole;
import org.xsm.server.rpc.CallContext;

/** The permission table's rules, each against a fact of xapi's datamodel. */
class PermissionsTest {
  private static StaticRole min(String message, Object... args) {
    Requirement r = Permissions.of(message, List.of(args)).requirement();
    assertThat(r.localSuperuserOnly()).as(message).isFalse();
    return r.minimum();
  }

  @Test
  void namedMessagesHaveXapisRoles() {
    assertThat(min("VM.start")).isEqualTo(VM_OPERATOR);
    assertThat(min("VM.destroy")).isEqualTo(VM_ADMIN);
    assertThat(min("VM.snapshot")).isEqualTo(VM_POWER_ADMIN);
    assertThat(min("VM.update_allowed_operations")).isEqualTo(POOL_ADMIN);
    assertThat(min("VM.get_allowed_VBD_devices")).isEqualTo(READ_ONLY);
    assertThat(min("SR.scan")).isEqualTo(VM_POWER_ADMIN);
    assertThat(min("SR.create")).isEqualTo(POOL_OPERATOR);
    assertThat(min("VDI.list_changed_blocks")).isEqualTo(VM_OPERATOR);
    assertThat(min("VBD.insert")).isEqualTo(VM_OPERATOR);
    assertThat(min("pool.join")).isEqualTo(POOL_OPERATOR);
    assertThat(min("host.call_plugin")).isEqualTo(POOL_ADMIN);
    assertThat(min("host.get_servertime")).isEqualTo(READ_ONLY);
    assertThat(min("task.cancel")).isEqualTo(READ_ONLY);
    assertThat(min("event.from")).isEqualTo(READ_ONLY);
    assertThat(min("subject.create")).isEqualTo(POOL_ADMIN);
    assertThat(min("session.logout_subject_identifier")).isEqualTo(POOL_OPERATOR);
    assertThat(Permissions.of("session.change_password", List.of()).requirement())
        .isEqualTo(Requirement.LOCAL_SUPERUSER);
  }

  @Test
  void genericReadersAndWritersFollowTheFieldAndTheClass() {
    assertThat(min("VM.get_power_state")).isEqualTo(READ_ONLY);
    assertThat(min("VM.get_all_records")).isEqualTo(READ_ONLY);
    assertThat(min("VM.set_name_label")).isEqualTo(VM_ADMIN);
    assertThat(min("VM.set_memory_static_max")).isEqualTo(VM_POWER_ADMIN);
    assertThat(min("VM.add_tags")).isEqualTo(VM_OPERATOR);
    assertThat(min("VM.set_ha_always_run")).isEqualTo(POOL_OPERATOR);
    assertThat(min("SR.set_name_label")).isEqualTo(POOL_OPERATOR);
    assertThat(min("network.set_MTU")).isEqualTo(VM_ADMIN);
    assertThat(min("VIF.set_locking_mode")).isEqualTo(POOL_OPERATOR);
    assertThat(min("task.add_to_other_config", "OpaqueRef:x", "k", "v")).isEqualTo(POOL_OPERATOR);
    // Secrets: reading one needs pool-operator, as xapi (all but its other_config).
    assertThat(min("secret.get_value")).isEqualTo(POOL_OPERATOR);
    assertThat(min("secret.get_all_records")).isEqualTo(POOL_OPERATOR);
    assertThat(min("secret.get_other_config")).isEqualTo(READ_ONLY);
  }

  @Test
  void protectedKeysHaveTheirOwnPermission() {
    Permissions.Resolved folder =
        Permissions.of("VM.add_to_other_config", List.of("OpaqueRef:x", "folder", "/a"));
    assertThat(folder.permission()).isEqualTo("vm.add_to_other_config/key:folder");
    assertThat(folder.requirement().minimum()).isEqualTo(VM_OPERATOR);
    Permissions.Resolved custom =
        Permissions.of(
            "VM.remove_from_other_config", List.of("OpaqueRef:x", "XenCenter.CustomFields.a"));
    assertThat(custom.permission())
        .isEqualTo("vm.remove_from_other_config/key:xencenter.customfields.*");
    assertThat(custom.requirement().minimum()).isEqualTo(VM_OPERATOR);
    assertThat(min("VM.add_to_other_config", "OpaqueRef:x", "pci", "0/0000:00:00.0"))
        .isEqualTo(POOL_ADMIN);
    assertThat(min("VM.add_to_other_config", "OpaqueRef:x", "anything", "v")).isEqualTo(VM_ADMIN);
  }

  @Test
  void httpHandlersAndUnknownMessages() {
    assertThat(Permissions.http("get_export_raw_vdi").permission())
        .isEqualTo("http/get_export_raw_vdi");
    assertThat(Permissions.http("get_export_raw_vdi").requirement().minimum()).isEqualTo(VM_ADMIN);
    assertThat(Permissions.http("put_blob").requirement().minimum()).isEqualTo(VM_POWER_ADMIN);
    assertThat(Permissions.http("get_rrd_updates").requirement().minimum()).isEqualTo(READ_ONLY);
    // What no rule names is pool-admin's only: never unchecked.
    assertThat(min("VM.some_future_message")).isEqualTo(POOL_ADMIN);
    assertThat(min("frobnicator.get_record")).isEqualTo(READ_ONLY);
    assertThat(min("frobnicator.set_thing")).isEqualTo(POOL_ADMIN);
    assertThat(Permissions.http("get_something_new").requirement().minimum()).isEqualTo(POOL_ADMIN);
  }

  @Test
  void theLocalSuperuserMayDoEverythingAndRolesAreOrdered() {
    CallContext root = new CallContext("s", "root", POOL_ADMIN, true, null);
    CallContext admin = new CallContext("s", "a", POOL_ADMIN, false, null);
    CallContext op = new CallContext("s", "o", VM_OPERATOR, false, null);
    assertThat(Requirement.LOCAL_SUPERUSER.allows(root)).isTrue();
    assertThat(Requirement.LOCAL_SUPERUSER.allows(admin)).isFalse();
    assertThat(Requirement.LOCAL_SUPERUSER.roles()).isEmpty();
    assertThat(Requirement.atLeast(VM_ADMIN).allows(op)).isFalse();
    assertThat(Requirement.atLeast(VM_OPERATOR).allows(op)).isTrue();
    assertThat(Requirement.atLeast(VM_ADMIN).roles())
        .containsExactly(POOL_ADMIN, POOL_OPERATOR, VM_POWER_ADMIN, VM_ADMIN);
  }
}
