package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.xsm.server.db.Database;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/**
 * Which operations a VM allows, as xapi decides it (xapi_vm_lifecycle.ml): each operation's power
 * states, then the template, snapshot and control-domain exceptions, and the user's {@code
 * blocked_operations}. {@link #update} writes {@code allowed_operations} of a VM and of its VBDs
 * and VIFs; it runs after every power change, snapshot, clone and provision. Simulated guests
 * support every guest feature (a PV-driver guest in xapi's terms), so no operation is refused for a
 * lacking feature.
 */
@ApplicationScoped
public class VmOperations {
  /** xapi's {@code vm_operations} as the SDK 8.1.0 knows them, by wire name. */
  public enum Op {
    SNAPSHOT,
    CLONE,
    COPY,
    CREATE_TEMPLATE,
    REVERT,
    CHECKPOINT,
    SNAPSHOT_WITH_QUIESCE,
    PROVISION,
    START,
    START_ON,
    PAUSE,
    UNPAUSE,
    CLEAN_SHUTDOWN,
    CLEAN_REBOOT,
    HARD_SHUTDOWN,
    POWER_STATE_RESET,
    HARD_REBOOT,
    SUSPEND,
    CSVM,
    RESUME,
    RESUME_ON,
    POOL_MIGRATE,
    MIGRATE_SEND,
    GET_BOOT_RECORD,
    SEND_SYSRQ,
    SEND_TRIGGER,
    QUERY_SERVICES,
    SHUTDOWN,
    CALL_PLUGIN,
    CHANGING_MEMORY_LIVE,
    AWAITING_MEMORY_LIVE,
    CHANGING_DYNAMIC_RANGE,
    CHANGING_STATIC_RANGE,
    CHANGING_MEMORY_LIMITS,
    CHANGING_SHADOW_MEMORY,
    CHANGING_SHADOW_MEMORY_LIVE,
    CHANGING_VCPUS,
    CHANGING_VCPUS_LIVE,
    CHANGING_NVRAM,
    ASSERT_OPERATION_VALID,
    DATA_SOURCE_OP,
    UPDATE_ALLOWED_OPERATIONS,
    MAKE_INTO_TEMPLATE,
    IMPORT,
    EXPORT,
    METADATA_EXPORT,
    REVERTING,
    DESTROY;

    /** The wire name: lower case, except xapi's {@code changing_VCPUs*} and {@code NVRAM}. */
    public String wire() {
      return name().toLowerCase(Locale.ROOT).replace("vcpus", "VCPUs").replace("nvram", "NVRAM");
    }

    /** The operation named {@code wire}, or null. */
    public static Op of(String wire) {
      for (Op o : values()) {
        if (o.wire().equals(wire)) {
          return o;
        }
      }
      return null;
    }
  }

  /** Operations xapi leaves out of {@code allowed_operations} (its {@code ignored_ops}). */
  private static final Set<Op> IGNORED =
      EnumSet.of(
          Op.CREATE_TEMPLATE,
          Op.POWER_STATE_RESET,
          Op.CSVM,
          Op.GET_BOOT_RECORD,
          Op.SEND_SYSRQ,
          Op.SEND_TRIGGER,
          Op.QUERY_SERVICES,
          Op.SHUTDOWN,
          Op.CALL_PLUGIN,
          Op.CHANGING_MEMORY_LIVE,
          Op.AWAITING_MEMORY_LIVE,
          Op.CHANGING_MEMORY_LIMITS,
          Op.CHANGING_SHADOW_MEMORY_LIVE,
          Op.CHANGING_VCPUS,
          Op.ASSERT_OPERATION_VALID,
          Op.DATA_SOURCE_OP,
          Op.UPDATE_ALLOWED_OPERATIONS,
          Op.IMPORT,
          Op.REVERTING);

  private static final Set<Op> TEMPLATE_OPS =
      EnumSet.of(
          Op.CHANGING_DYNAMIC_RANGE,
          Op.CHANGING_STATIC_RANGE,
          Op.CHANGING_MEMORY_LIMITS,
          Op.CHANGING_SHADOW_MEMORY,
          Op.CHANGING_VCPUS,
          Op.CHANGING_NVRAM,
          Op.CLONE,
          Op.COPY,
          Op.EXPORT,
          Op.METADATA_EXPORT,
          Op.PROVISION);

  private static final Set<Op> SNAPSHOT_OPS =
      EnumSet.of(
          Op.REVERT,
          Op.CLONE,
          Op.COPY,
          Op.EXPORT,
          Op.DESTROY,
          Op.HARD_SHUTDOWN,
          Op.METADATA_EXPORT);

  private static final Set<Op> CONTROL_DOMAIN_OPS =
      EnumSet.of(
          Op.DATA_SOURCE_OP,
          Op.CHANGING_MEMORY_LIVE,
          Op.AWAITING_MEMORY_LIVE,
          Op.METADATA_EXPORT,
          Op.CHANGING_DYNAMIC_RANGE,
          Op.CHANGING_MEMORY_LIMITS,
          Op.CHANGING_STATIC_RANGE,
          Op.START,
          Op.START_ON,
          Op.CHANGING_VCPUS,
          Op.DESTROY);

  private static final List<PowerState> ALL =
      List.of(PowerState.HALTED, PowerState.PAUSED, PowerState.SUSPENDED, PowerState.RUNNING);

  @Inject Database db;

  /** The power states in which {@code op} may run (xapi's allowed_power_states). */
  static List<PowerState> powerStates(Op op, Row<Vm> vm) {
    boolean control = vm.get(Vm.IS_CONTROL_DOMAIN);
    return switch (op) {
      case IMPORT -> List.of();
      case CHANGING_VCPUS, CHANGING_STATIC_RANGE, CHANGING_MEMORY_LIMITS ->
          control ? List.of(PowerState.HALTED, PowerState.RUNNING) : List.of(PowerState.HALTED);
      case CHANGING_SHADOW_MEMORY, CHANGING_NVRAM, MAKE_INTO_TEMPLATE, PROVISION, START, START_ON ->
          List.of(PowerState.HALTED);
      case UNPAUSE -> List.of(PowerState.PAUSED);
      case CSVM, RESUME, RESUME_ON -> List.of(PowerState.SUSPENDED);
      case AWAITING_MEMORY_LIVE,
              CALL_PLUGIN,
              CLEAN_REBOOT,
              CLEAN_SHUTDOWN,
              CHANGING_MEMORY_LIVE,
              CHANGING_SHADOW_MEMORY_LIVE,
              CHANGING_VCPUS_LIVE,
              DATA_SOURCE_OP,
              PAUSE,
              POOL_MIGRATE,
              SEND_SYSRQ,
              SEND_TRIGGER,
              SNAPSHOT_WITH_QUIESCE,
              SUSPEND ->
          List.of(PowerState.RUNNING);
      case CHANGING_DYNAMIC_RANGE -> List.of(PowerState.HALTED, PowerState.RUNNING);
      case CLONE, COPY ->
          vm.get(Vm.IS_A_SNAPSHOT)
              ? List.of(PowerState.HALTED, PowerState.SUSPENDED)
              : List.of(PowerState.HALTED);
      case CREATE_TEMPLATE, DESTROY, EXPORT -> List.of(PowerState.HALTED, PowerState.SUSPENDED);
      case HARD_REBOOT -> List.of(PowerState.PAUSED, PowerState.RUNNING);
      case CHECKPOINT, GET_BOOT_RECORD, SHUTDOWN, HARD_SHUTDOWN ->
          List.of(PowerState.PAUSED, PowerState.SUSPENDED, PowerState.RUNNING);
      case MIGRATE_SEND -> List.of(PowerState.HALTED, PowerState.SUSPENDED, PowerState.RUNNING);
      default -> ALL;
    };
  }

  private static String lower(PowerState s) {
    return s.wire().toLowerCase(Locale.ROOT);
  }

  /** The error xapi reports for {@code op} on {@code vm}, or null when it may run. */
  public XenApiException error(Row<Vm> vm, Op op) {
    String ref = vm.ref().value();
    Map<String, String> blocked = vm.get(Vm.BLOCKED_OPERATIONS);
    if (blocked.containsKey(op.wire())) {
      return new XenApiException(XenApiError.OPERATION_BLOCKED, ref, blocked.get(op.wire()));
    }
    PowerState state = vm.get(Vm.POWER_STATE);
    List<PowerState> allowed = powerStates(op, vm);
    if (!allowed.contains(state)) {
      return new XenApiException(
          XenApiError.VM_BAD_POWER_STATE,
          ref,
          allowed.stream().map(VmOperations::lower).collect(Collectors.joining(", ")),
          lower(state));
    }
    boolean template = vm.get(Vm.IS_A_TEMPLATE);
    boolean snapshot = vm.get(Vm.IS_A_SNAPSHOT);
    if (template && !snapshot && !TEMPLATE_OPS.contains(op)) {
      boolean isDefault =
          vm.get(Vm.IS_DEFAULT_TEMPLATE)
              || "true".equalsIgnoreCase(vm.get(Vm.OTHER_CONFIG).get("default_template"));
      if (!((op == Op.DESTROY || op == Op.MIGRATE_SEND) && !isDefault)) {
        return new XenApiException(XenApiError.VM_IS_TEMPLATE, ref, op.wire());
      }
    }
    if (snapshot && !SNAPSHOT_OPS.contains(op)) {
      return new XenApiException(XenApiError.VM_IS_SNAPSHOT, ref, op.wire());
    }
    if (op == Op.PROVISION && !template) {
      return new XenApiException(XenApiError.PROVISION_ONLY_ALLOWED_ON_TEMPLATE);
    }
    if (op == Op.REVERT && !snapshot) {
      return new XenApiException(XenApiError.REVERT_ONLY_ALLOWED_ON_SNAPSHOT);
    }
    if (vm.get(Vm.IS_CONTROL_DOMAIN)) {
      if (op == Op.CHANGING_VCPUS || op == Op.DESTROY) {
        return new XenApiException(
            XenApiError.OPERATION_NOT_ALLOWED, "This operation is not allowed on dom0");
      }
      if (!CONTROL_DOMAIN_OPS.contains(op)) {
        return new XenApiException(
            XenApiError.OPERATION_NOT_ALLOWED, "This operation is not allowed on a control domain");
      }
    }
    if (op == Op.SNAPSHOT_WITH_QUIESCE) {
      return new XenApiException(XenApiError.VM_SNAPSHOT_WITH_QUIESCE_NOT_SUPPORTED, ref);
    }
    if (op == Op.QUERY_SERVICES
        && !"true".equalsIgnoreCase(vm.get(Vm.OTHER_CONFIG).get("is_system_domain"))) {
      return new XenApiException(XenApiError.NOT_SYSTEM_DOMAIN, ref);
    }
    if (!vm.get(Vm.VGPUS).isEmpty()
        && (op == Op.SUSPEND || op == Op.CHECKPOINT || op == Op.POOL_MIGRATE)) {
      return new XenApiException(XenApiError.VM_HAS_VGPU, ref);
    }
    return null;
  }

  /** Raises xapi's error when {@code op} may not run on {@code vm} now. */
  public Row<Vm> assertValid(Ref<Vm> vm, Op op) throws XenApiException {
    Row<Vm> r = db.read(Vm.CLASS, vm);
    XenApiException e = error(r, op);
    if (e != null) {
      throw e;
    }
    return r;
  }

  /** The operations {@code vm} allows now, as xapi lists them. */
  public List<String> allowed(Row<Vm> vm) {
    List<String> out = new ArrayList<>();
    Collection<String> current = vm.get(Vm.CURRENT_OPERATIONS).values();
    for (Op op : Op.values()) {
      if (!IGNORED.contains(op)
          && error(vm, op) == null
          && (current.isEmpty() || concurrentWith(op, current))) {
        out.add(op.wire());
      }
    }
    return out;
  }

  private static final Set<Op> LONG_COPIES = EnumSet.of(Op.CLONE, Op.COPY, Op.EXPORT);
  private static final Set<Op> SNAPSHOTS = EnumSet.of(Op.SNAPSHOT, Op.CHECKPOINT);

  /** Whether {@code op} may start while {@code current} run (xapi's is_allowed_concurrently). */
  static boolean concurrentWith(Op op, Collection<String> current) {
    List<Op> running = current.stream().map(Op::of).toList();
    for (Set<Op> group : List.of(LONG_COPIES, SNAPSHOTS, EnumSet.of(Op.GET_BOOT_RECORD))) {
      if (group.contains(op) && group.containsAll(running)) {
        return true;
      }
    }
    return switch (op) {
      case HARD_SHUTDOWN -> !running.contains(Op.HARD_SHUTDOWN);
      case HARD_REBOOT -> !running.contains(Op.HARD_SHUTDOWN) && !running.contains(Op.HARD_REBOOT);
      default -> false;
    };
  }

  /** A VM operation without a result. */
  @FunctionalInterface
  public interface Action {
    void run() throws XenApiException;
  }

  /** {@link #during} for a message without a result; returns XenAPI's void answer, "". */
  public Object call(Ref<Vm> vm, Op op, String task, Action body) throws XenApiException {
    return during(
        vm,
        op,
        task,
        () -> {
          body.run();
          return "";
        });
  }

  /** A VM operation's body. */
  @FunctionalInterface
  public interface Body<T> {
    T run() throws XenApiException;
  }

  /**
   * Runs {@code body} as operation {@code op} of {@code vm}: listed in the VM's {@code
   * current_operations} under the call's task (a fresh reference for a synchronous call) while it
   * runs, refused with OTHER_OPERATION_IN_PROGRESS when a running operation excludes it, and the
   * allowed operations updated at both ends.
   */
  public <T> T during(Ref<Vm> vm, Op op, String task, Body<T> body) throws XenApiException {
    String key = task != null ? task : "OpaqueRef:" + UUID.randomUUID();
    db.modify(
        Vm.CLASS,
        vm,
        r -> {
          Map<String, String> current = new LinkedHashMap<>(r.get(Vm.CURRENT_OPERATIONS));
          if (!current.isEmpty() && !concurrentWith(op, current.values())) {
            throw new XenApiException(
                XenApiError.OTHER_OPERATION_IN_PROGRESS,
                "VM",
                vm.value(),
                String.join(",", current.values()),
                String.join(",", current.keySet()));
          }
          current.put(key, op.wire());
          return Values.of(Vm.CLASS).with(Vm.CURRENT_OPERATIONS, current);
        });
    update(vm);
    try {
      return body.run();
    } finally {
      if (db.exists(Vm.CLASS, vm)) {
        db.modify(
            Vm.CLASS,
            vm,
            r -> {
              Map<String, String> current = new LinkedHashMap<>(r.get(Vm.CURRENT_OPERATIONS));
              current.remove(key);
              return Values.of(Vm.CLASS).with(Vm.CURRENT_OPERATIONS, current);
            });
        update(vm);
      }
    }
  }

  /** VM.update_allowed_operations: the VM's, its VBDs' and its VIFs' allowed operations. */
  public void update(Ref<Vm> vm) throws XenApiException {
    Row<Vm> r = db.readOrNull(Vm.CLASS, vm);
    if (r == null) {
      return;
    }
    List<String> ops = allowed(r);
    if (!ops.equals(r.get(Vm.ALLOWED_OPERATIONS))) {
      db.set(vm, Vm.ALLOWED_OPERATIONS, ops);
    }
    PowerState s = r.get(Vm.POWER_STATE);
    for (Ref<Vbd> vbd : r.get(Vm.VBDS)) {
      Row<Vbd> b = db.readOrNull(Vbd.CLASS, vbd);
      if (b != null) {
        List<String> v = DeviceOperations.vbd(b, s);
        if (!v.equals(b.get(Vbd.ALLOWED_OPERATIONS))) {
          db.set(vbd, Vbd.ALLOWED_OPERATIONS, v);
        }
      }
    }
    for (Ref<Vif> vif : r.get(Vm.VIFS)) {
      Row<Vif> f = db.readOrNull(Vif.CLASS, vif);
      if (f != null) {
        List<String> v = DeviceOperations.vif(f.get(Vif.CURRENTLY_ATTACHED), s);
        if (!v.equals(f.get(Vif.ALLOWED_OPERATIONS))) {
          db.set(vif, Vif.ALLOWED_OPERATIONS, v);
        }
      }
    }
  }
}
