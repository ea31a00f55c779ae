package org.xsm.server.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Event;
import com.xensource.xenapi.EventBatch;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.Role;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Subject;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.xsm.server.SdkTest;

/**
 * xapi's six roles through the Java SDK: the role records, each role's permissions, and for each
 * role something it may do and one thing just above it, refused with {@code
 * RBAC_PERMISSION_DENIED}. The users are the test profile's {@code XSM_USERS}, one per role.
 */
@QuarkusTest
public class RbacTest extends SdkTest {
  @jakarta.inject.Inject org.xsm.server.rpc.Dispatcher dispatcher;

  static final List<String> ROLES =
      List.of(
          "pool-admin", "pool-operator", "vm-power-admin", "vm-admin", "vm-operator", "read-only");
  static final Map<String, String> USER_OF =
      Map.of(
          "pool-admin", "rb-pooladmin",
          "pool-operator", "rb-poolop",
          "vm-power-admin", "rb-vmpower",
          "vm-admin", "rb-vmadmin",
          "vm-operator", "rb-vmop",
          "read-only", "rb-read");

  public static Connection login(java.net.URL url, String user) throws Exception {
    Connection c = new Connection(url);
    Session.loginWithPassword(c, user, user + "-pw", "2.21");
    return c;
  }

  public static void denied(ThrowingCallable call, String permission) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            Types.RbacPermissionDenied.class,
            e -> {
              assertThat(e.permission).isEqualTo(permission);
              assertThat(e.message).startsWith("No permission in user session. (Roles with");
            });
  }

  private VM newVm(String name) throws Exception {
    VM.Record r = new VM.Record();
    r.nameLabel = name;
    r.nameDescription = "";
    r.memoryStaticMax = 256L << 20;
    r.memoryDynamicMax = 256L << 20;
    r.memoryDynamicMin = 256L << 20;
    r.memoryStaticMin = 256L << 20;
    r.VCPUsMax = 1L;
    r.VCPUsAtStartup = 1L;
    r.isATemplate = false;
    r.otherConfig = Map.of();
    return VM.create(c, r);
  }

  @Test
  void roleRecordsAreXapisSixRolesAndTheirPermissions() throws Exception {
    Map<Role, Role.Record> all = Role.getAllRecords(c);
    Map<String, Role.Record> roles = new HashMap<>();
    Map<Role, String> permissionNames = new HashMap<>();
    all.forEach(
        (ref, r) -> {
          if (r.subroles.isEmpty()) {
            permissionNames.put(ref, r.nameLabel);
          } else {
            roles.put(r.nameLabel, r);
          }
        });
    assertThat(roles.keySet()).containsExactlyInAnyOrderElementsOf(ROLES);
    // xapi's UUIDs: pool-admin's fixed one, the others the MD5 digest of the name.
    assertThat(roles.get("pool-admin").uuid).isEqualTo("0165f154-ba3e-034e-6b27-5d271af109ba");
    assertThat(roles.get("read-only").uuid).isEqualTo("7233b8e3-eacb-d7da-2c95-f2e581cdbf4e");
    assertThat(Role.getByUuid(c, roles.get("vm-operator").uuid).getNameLabel(c))
        .isEqualTo("vm-operator");
    // Each role holds every permission of the roles below it, and more.
    List<Set<String>> held = new ArrayList<>();
    for (String name : ROLES) {
      Role role = Role.getByNameLabel(c, name).iterator().next();
      Set<String> names = role.getPermissionsNameLabel(c);
      assertThat(role.getPermissions(c)).hasSameSizeAs(names).isEqualTo(role.getSubroles(c));
      for (Role p : role.getSubroles(c)) {
        assertThat(permissionNames).containsKey(p);
      }
      held.add(names);
    }
    System.out.printf(
        "RBAC: %d role records (%d permissions); permissions per role %s: %s%n",
        all.size(), permissionNames.size(), ROLES, held.stream().map(Set::size).toList());
    for (int i = 1; i < held.size(); i++) {
      assertThat(held.get(i - 1)).containsAll(held.get(i));
      assertThat(held.get(i - 1)).hasSizeGreaterThan(held.get(i).size());
    }
    assertThat(held.get(5)).contains("vm.get_record", "vm.get_all_records", "session.logout");
    assertThat(held.get(5)).doesNotContain("vm.start", "secret.get_value");
    assertThat(held.get(4))
        .contains("vm.start", "vm.clean_shutdown", "vm.add_to_other_config/key:folder")
        .doesNotContain("vm.destroy");
    assertThat(held.get(3)).contains("vm.destroy", "vdi.create", "http/get_export_raw_vdi");
    assertThat(held.get(3)).doesNotContain("vm.snapshot");
    assertThat(held.get(2)).contains("vm.snapshot", "vm.revert").doesNotContain("sr.create");
    assertThat(held.get(1))
        .contains("sr.create", "pool.set_name_label")
        .doesNotContain("subject.create");
    assertThat(held.get(0)).contains("subject.create", "session.local_logout");
    // root's own permissions belong to no role.
    assertThat(held.get(0)).doesNotContain("session.change_password");
    assertThat(names(Role.getByPermissionNameLabel(c, "vm.start")))
        .containsExactlyInAnyOrder(
            "pool-admin", "pool-operator", "vm-power-admin", "vm-admin", "vm-operator");
    Role start = Role.getByNameLabel(c, "vm.start").iterator().next();
    assertThat(start.getPermissions(c)).containsExactly(start);
    assertThat(names(start.getByPermission(c))).hasSize(5).doesNotContain("read-only");
  }

  private Set<String> names(Set<Role> roles) throws Exception {
    Set<String> out = new java.util.TreeSet<>();
    for (Role r : roles) {
      out.add(r.getNameLabel(c));
    }
    return out;
  }

  @Test
  void eachSessionListsItsRolesPermissions() throws Exception {
    Session root = Types.toSession(c.getSessionReference());
    assertThat(root.getIsLocalSuperuser(c)).isTrue();
    assertThat(root.getRbacPermissions(c)).isEmpty(); // as xapi: root is never checked
    assertThat(root.getSubject(c).toWireString()).isEqualTo("OpaqueRef:NULL");
    for (String role : ROLES) {
      String user = USER_OF.get(role);
      Connection u = login(url, user);
      try {
        Session s = Types.toSession(u.getSessionReference());
        assertThat(s.getIsLocalSuperuser(u)).isFalse();
        assertThat(s.getRbacPermissions(u))
            .isEqualTo(Role.getByNameLabel(u, role).iterator().next().getPermissionsNameLabel(u));
        assertThat(s.getAuthUserName(u)).isEqualTo(user);
        Subject subject = s.getSubject(u);
        assertThat(subject.getSubjectIdentifier(u)).isEqualTo(s.getAuthUserSid(u));
        assertThat(names(subject.getRoles(u))).containsExactly(role);
        assertThat(Session.getAllSubjectIdentifiers(c)).contains(s.getAuthUserSid(u));
      } finally {
        Session.logout(u);
      }
    }
  }

  @Test
  void eachRoleMayDoWhatXapiAllowsAndNoMore() throws Exception {
    VM vm = newVm("rbac-matrix");
    SR sr = defaultSr();
    String srName = sr.getNameLabel(c);

    Connection ro = login(url, "rb-read");
    assertThat(VM.getAllRecords(ro)).containsKey(vm);
    assertThat(vm.getPowerState(ro)).isEqualTo(Types.VmPowerState.HALTED);
    denied(() -> vm.start(ro, false, false), "vm.start");
    denied(() -> vm.startAsync(ro, false, false), "vm.start");
    denied(() -> vm.addToOtherConfig(ro, "folder", "/a"), "vm.add_to_other_config/key:folder");

    Connection op = login(url, "rb-vmop");
    vm.start(op, false, false);
    assertThat(vm.getPowerState(op)).isEqualTo(Types.VmPowerState.RUNNING);
    vm.hardShutdown(op);
    vm.addToOtherConfig(op, "folder", "/rbac"); // a key XenCenter's folders use
    vm.addToOtherConfig(op, "XenCenter.CustomFields.owner", "me");
    denied(() -> vm.addToOtherConfig(op, "other", "x"), "vm.add_to_other_config");
    denied(() -> vm.destroy(op), "vm.destroy");
    denied(() -> vm.destroyAsync(op), "vm.destroy");

    Connection admin = login(url, "rb-vmadmin");
    vm.setNameDescription(admin, "changed by a vm-admin");
    VDI disk = SdkTest.newVdi(admin, sr, "rbac-disk", 1024 * 1024, Map.of());
    denied(() -> vm.snapshot(admin, "nope"), "vm.snapshot");
    denied(() -> disk.setNameLabel(ro, "nope"), "vdi.set_name_label");

    Connection power = login(url, "rb-vmpower");
    VM snap = vm.snapshot(power, "by a vm-power-admin");
    denied(() -> sr.setNameLabel(power, "nope"), "sr.set_name_label");
    snap.destroy(admin);
    disk.destroy(admin);

    Connection poolOp = login(url, "rb-poolop");
    sr.setNameLabel(poolOp, srName + " (renamed)");
    sr.setNameLabel(poolOp, srName);
    Subject.Record subject = new Subject.Record();
    subject.subjectIdentifier = "S-1-5-21-1";
    subject.otherConfig = Map.of();
    subject.roles = Set.of();
    denied(() -> Subject.create(poolOp, subject), "subject.create");
    denied(() -> Session.localLogout(poolOp), "session.local_logout");

    Connection poolAdmin = login(url, "rb-pooladmin");
    // Allowed, and then refused by the auth service, which is disabled: as xapi.
    assertThatThrownBy(() -> Subject.create(poolAdmin, subject))
        .isInstanceOf(Types.AuthIsDisabled.class);
    denied(() -> Session.changePassword(poolAdmin, "x", "y"), "session.change_password");
    vm.destroy(admin);
    for (Connection x : List.of(ro, op, admin, power, poolOp, poolAdmin)) {
      Session.logout(x);
    }
  }

  /**
   * Every message the server answers has a rule (what none names would be pool-admin's only): a
   * message added without one is named here.
   */
  @Test
  void everyRegisteredMessageHasARule() throws Exception {
    List<String> without = new ArrayList<>();
    for (String m : dispatcher.listMethods()) {
      if (!m.startsWith("system.") && !Permissions.hasRule(m)) {
        without.add(m);
      }
    }
    assertThat(without).isEmpty();
  }

  /** XenCenter's connect sequence (xenapi-clients.md), for root and for a vm-operator. */
  @Test
  void xenCenterConnectSequenceSucceedsForRootAndAVmOperator() throws Exception {
    for (String user : List.of("root", "rb-vmop")) {
      Connection x = user.equals("root") ? c : login(url, user);
      Map<Pool, Pool.Record> pools = Pool.getAllRecords(x);
      assertThat(pools).hasSize(1);
      Host master = pools.values().iterator().next().master;
      assertThat(master.getRecord(x).uuid).isNotEmpty();
      Session s = Types.toSession(x.getSessionReference());
      assertThat(s.getIsLocalSuperuser(x)).isEqualTo(user.equals("root"));
      Set<String> perms = s.getRbacPermissions(x);
      assertThat(perms.isEmpty()).isEqualTo(user.equals("root"));
      assertThat(Role.getAllRecords(x)).hasSizeGreaterThan(ROLES.size());
      EventBatch batch = Event.from(x, Set.of("*"), "", 30.0);
      assertThat(batch.token).isNotEmpty();
      assertThat(batch.events)
          .extracting(e -> e.clazz.toLowerCase())
          .contains("pool", "host", "sr");
      if (!user.equals("root")) {
        Session.logout(x);
      }
    }
  }
}
