package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xsm.server.db.Database;
import org.xsm.server.model.DomainType;
import org.xsm.server.model.Host;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.Vm;
import org.xsm.server.model.VmMetrics;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.vm.VmOperations.Op;

/**
 * A VM's memory and vCPU settings with xapi's checks (xapi_vm.ml, vm_memory_constraints.ml): the
 * operation's power state first, then {@code static_min <= dynamic_min <= dynamic_max <=
 * static_max} (MEMORY_CONSTRAINT_VIOLATION) and {@code 0 < VCPUs_at_startup <= VCPUs_max}
 * (INVALID_VALUE). The pool has dynamic memory control, so the dynamic range need not be pinned.
 */
@ApplicationScoped
public class VmConfig {
  private static final String ORDER =
      "Memory limits must satisfy: static_min <= dynamic_min <= dynamic_max <= static_max";
  private static final String VCPUS =
      "VCPU values must satisfy: 0 < VCPUs_at_startup \u2264 VCPUs_max";

  /** Memory xapi adds to a domain for its page tables and device model, per MiB of RAM. */
  private static final long OVERHEAD_PER_MIB = 8L * 1024;

  private static final long MIB = 1024L * 1024;

  @Inject Database db;
  @Inject VmOperations operations;
  @Inject VmRecords records;

  /** The four limits in xapi's order of checking. */
  record Memory(long staticMin, long dynamicMin, long dynamicMax, long staticMax) {
    static Memory of(Row<Vm> r) {
      return new Memory(
          r.get(Vm.MEMORY_STATIC_MIN),
          r.get(Vm.MEMORY_DYNAMIC_MIN),
          r.get(Vm.MEMORY_DYNAMIC_MAX),
          r.get(Vm.MEMORY_STATIC_MAX));
    }

    boolean valid() {
      return staticMin <= dynamicMin && dynamicMin <= dynamicMax && dynamicMax <= staticMax;
    }
  }

  /** Raises MEMORY_CONSTRAINT_VIOLATION when the VM's limits are out of order. */
  static void checkMemory(Row<Vm> r) throws XenApiException {
    if (!Memory.of(r).valid()) {
      throw new XenApiException(XenApiError.MEMORY_CONSTRAINT_VIOLATION, ORDER);
    }
  }

  private void setMemory(Ref<Vm> vm, Memory m) throws XenApiException {
    if (!m.valid()) {
      throw new XenApiException(XenApiError.MEMORY_CONSTRAINT_VIOLATION, ORDER);
    }
    db.update(
        Vm.CLASS,
        vm,
        Values.of(Vm.CLASS)
            .with(Vm.MEMORY_STATIC_MIN, m.staticMin())
            .with(Vm.MEMORY_DYNAMIC_MIN, m.dynamicMin())
            .with(Vm.MEMORY_TARGET, m.dynamicMin())
            .with(Vm.MEMORY_DYNAMIC_MAX, m.dynamicMax())
            .with(Vm.MEMORY_STATIC_MAX, m.staticMax())
            .with(Vm.MEMORY_OVERHEAD, overhead(m.staticMax())));
  }

  /** VM.compute_memory_overhead: what the domain needs beyond its RAM. */
  public long overhead(long staticMaxBytes) {
    return MIB + (staticMaxBytes / MIB) * OVERHEAD_PER_MIB;
  }

  /** VM.set_memory_limits. */
  public void setLimits(Ref<Vm> vm, long staticMin, long staticMax, long dynMin, long dynMax)
      throws XenApiException {
    operations.assertValid(vm, Op.CHANGING_MEMORY_LIMITS);
    setMemory(vm, new Memory(staticMin, dynMin, dynMax, staticMax));
  }

  /** VM.set_memory: every limit but static_min to {@code value}. */
  public void setMemory(Ref<Vm> vm, long value) throws XenApiException {
    Row<Vm> r = operations.assertValid(vm, Op.CHANGING_MEMORY_LIMITS);
    setMemory(vm, new Memory(r.get(Vm.MEMORY_STATIC_MIN), value, value, value));
  }

  /** VM.set_memory_static_range, and set_memory_static_min/max, which xapi routes there. */
  public void setStaticRange(Ref<Vm> vm, Long min, Long max) throws XenApiException {
    Row<Vm> r = operations.assertValid(vm, Op.CHANGING_STATIC_RANGE);
    Memory m = Memory.of(r);
    setMemory(
        vm,
        new Memory(
            min == null ? m.staticMin() : min,
            m.dynamicMin(),
            m.dynamicMax(),
            max == null ? m.staticMax() : max));
  }

  /** VM.set_memory_dynamic_range, and set_memory_dynamic_min/max; live on a running VM. */
  public void setDynamicRange(Ref<Vm> vm, Long min, Long max) throws XenApiException {
    Row<Vm> r = operations.assertValid(vm, Op.CHANGING_DYNAMIC_RANGE);
    Memory m = Memory.of(r);
    setMemory(
        vm,
        new Memory(
            m.staticMin(),
            min == null ? m.dynamicMin() : min,
            max == null ? m.dynamicMax() : max,
            m.staticMax()));
    records.refreshMetrics(vm);
  }

  /** VM.set_memory_target_live: deprecated in xapi, which ignores it once the op is allowed. */
  public void setTargetLive(Ref<Vm> vm) throws XenApiException {
    operations.assertValid(vm, Op.CHANGING_MEMORY_LIVE);
  }

  /** VM.maximise_memory: the largest static_max whose domain fits in {@code total} bytes. */
  public long maximise(Ref<Vm> vm, long total) throws XenApiException {
    db.read(Vm.CLASS, vm);
    long ram = (total - MIB) * MIB / (MIB + OVERHEAD_PER_MIB);
    return Math.max(0, ram - ram % MIB);
  }

  /** VM.set_VCPUs_max. */
  public void setVcpusMax(Ref<Vm> vm, long value) throws XenApiException {
    Row<Vm> r = operations.assertValid(vm, Op.CHANGING_VCPUS);
    if (value < 1 || value < r.get(Vm.VCPUS_AT_STARTUP)) {
      throw new XenApiException(XenApiError.INVALID_VALUE, VCPUS, Long.toString(value));
    }
    db.set(vm, Vm.VCPUS_MAX, value);
  }

  /** VM.set_VCPUs_at_startup. */
  public void setVcpusAtStartup(Ref<Vm> vm, long value) throws XenApiException {
    Row<Vm> r = operations.assertValid(vm, Op.CHANGING_VCPUS);
    if (value < 1 || value > r.get(Vm.VCPUS_MAX)) {
      throw new XenApiException(XenApiError.INVALID_VALUE, VCPUS, Long.toString(value));
    }
    db.set(vm, Vm.VCPUS_AT_STARTUP, value);
  }

  /** VM.set_VCPUs_number_live: a running guest's vCPUs, between 1 and VCPUs_max. */
  public void setVcpusLive(Ref<Vm> vm, long n) throws XenApiException {
    Row<Vm> r = operations.assertValid(vm, Op.CHANGING_VCPUS_LIVE);
    if (n < 1 || n > r.get(Vm.VCPUS_MAX)) {
      throw new XenApiException(XenApiError.INVALID_VALUE, "nvcpu", Long.toString(n));
    }
    db.set(vm, Vm.VCPUS_AT_STARTUP, n);
    records.refreshMetrics(vm);
  }

  /**
   * VM.set_shadow_multiplier_live ({@code live}, a running VM's) and VM.set_HVM_shadow_multiplier
   * (a halted VM's): at least 1.
   */
  public void setShadowMultiplier(Ref<Vm> vm, double value, boolean live) throws XenApiException {
    operations.assertValid(vm, live ? Op.CHANGING_SHADOW_MEMORY_LIVE : Op.CHANGING_SHADOW_MEMORY);
    if (value < 1.0) {
      throw new XenApiException(
          XenApiError.INVALID_VALUE,
          live ? "multiplier" : "HVM_shadow_multiplier",
          Double.toString(value));
    }
    db.set(vm, Vm.HVM_SHADOW_MULTIPLIER, value);
  }

  private void requireState(Ref<Vm> vm, PowerState expected) throws XenApiException {
    PowerState s = db.get(vm, Vm.POWER_STATE);
    if (s != expected) {
      throw new XenApiException(
          XenApiError.VM_BAD_POWER_STATE,
          vm.value(),
          expected.wire().toLowerCase(java.util.Locale.ROOT),
          s.wire().toLowerCase(java.util.Locale.ROOT));
    }
  }

  /** VM.set_HVM_boot_policy: an empty policy makes the VM PV, "BIOS order" HVM (as xapi). */
  public void setHvmBootPolicy(Ref<Vm> vm, String value) throws XenApiException {
    db.read(Vm.CLASS, vm);
    db.update(
        Vm.CLASS,
        vm,
        Values.of(Vm.CLASS)
            .with(Vm.HVM_BOOT_POLICY, value)
            .with(Vm.DOMAIN_TYPE, value.isEmpty() ? DomainType.PV : DomainType.HVM));
  }

  /** VM.set_suspend_VDI: only on a suspended VM, to a suspend image. */
  public void setSuspendVdi(Ref<Vm> vm, Ref<Vdi> vdi) throws XenApiException {
    requireState(vm, PowerState.SUSPENDED);
    if (!db.exists(Vdi.CLASS, vdi)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "VDI", vdi.value());
    }
    if (db.get(vdi, Vdi.TYPE) != VdiType.SUSPEND) {
      throw new XenApiException(
          XenApiError.VDI_INCOMPATIBLE_TYPE, vdi.value(), db.get(vdi, Vdi.TYPE).wire());
    }
    db.set(vm, Vm.SUSPEND_VDI, vdi);
  }

  /** VM.set_has_vendor_device: a halted VM's. */
  public void setHasVendorDevice(Ref<Vm> vm, boolean value) throws XenApiException {
    requireState(vm, PowerState.HALTED);
    db.set(vm, Vm.HAS_VENDOR_DEVICE, value);
  }

  /**
   * xapi's generic BIOS strings: what a VM gets at its first start, and the base of custom ones.
   */
  static final Map<String, String> GENERIC_BIOS_STRINGS = genericBiosStrings();

  private static Map<String, String> genericBiosStrings() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("bios-vendor", "Xen");
    m.put("system-manufacturer", "Xen");
    m.put("system-product-name", "HVM domU");
    for (String k :
        List.of(
            "bios-version",
            "system-version",
            "system-serial-number",
            "baseboard-manufacturer",
            "baseboard-product-name",
            "baseboard-version",
            "baseboard-serial-number",
            "baseboard-asset-tag",
            "baseboard-location-in-chassis",
            "enclosure-asset-tag",
            "hp-rombios")) {
      m.put(k, "");
    }
    m.put("oem-1", "Xen");
    m.put("oem-2", "MS_VM_CERT/SHA1/bdbeb6e0a816d43fa6d3fe8aaef04c2bad9d3e3d");
    return Map.copyOf(m);
  }

  /**
   * The keys VM.set_bios_strings may set (xapi's settable_vm_bios_string_keys): the generic ones
   * but the HP ROM BIOS and OEM strings.
   */
  private static final Set<String> SETTABLE_BIOS_KEYS =
      GENERIC_BIOS_STRINGS.keySet().stream()
          .filter(k -> !k.equals("hp-rombios") && !k.startsWith("oem-"))
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  private void assertNoBiosStrings(Ref<Vm> vm) throws XenApiException {
    if (!db.get(vm, Vm.BIOS_STRINGS).isEmpty()) {
      throw new XenApiException(XenApiError.VM_BIOS_STRINGS_ALREADY_SET);
    }
  }

  /**
   * VM.set_bios_strings: once, before any are set; known keys only, values of 1 to 512 printable
   * ASCII characters, over xapi's generic strings.
   */
  public void setBiosStrings(Ref<Vm> vm, Map<String, String> value) throws XenApiException {
    assertNoBiosStrings(vm);
    for (Map.Entry<String, String> e : value.entrySet()) {
      String k = e.getKey();
      String v = e.getValue();
      if (!SETTABLE_BIOS_KEYS.contains(k)) {
        throw new XenApiException(XenApiError.INVALID_VALUE, k, "Unknown key");
      }
      if (v.isEmpty()) {
        throw new XenApiException(XenApiError.INVALID_VALUE, k, "Value provided is empty");
      }
      if (v.length() > 512) {
        throw new XenApiException(
            XenApiError.INVALID_VALUE, k, v + " has length more than 512 characters");
      }
      if (!v.chars().allMatch(ch -> ch >= 32 && ch < 127)) {
        throw new XenApiException(
            XenApiError.INVALID_VALUE, k, v + " has non-printable ASCII characters");
      }
    }
    Map<String, String> strings = new LinkedHashMap<>(GENERIC_BIOS_STRINGS);
    strings.putAll(value);
    db.set(vm, Vm.BIOS_STRINGS, strings);
  }

  /** VM.copy_bios_strings: the host's strings, once; the VM's affinity becomes that host. */
  public void copyBiosStrings(Ref<Vm> vm, Ref<Host> host) throws XenApiException {
    if (!db.exists(Host.CLASS, host)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "host", host.value());
    }
    assertNoBiosStrings(vm);
    db.update(
        Vm.CLASS,
        vm,
        Values.of(Vm.CLASS)
            .with(Vm.BIOS_STRINGS, db.get(host, Host.BIOS_STRINGS))
            .with(Vm.AFFINITY, host));
  }

  /**
   * VM.set_is_a_template: making a template is operation make_into_template (a halted VM), which
   * clears ha_always_run; making a template a VM again sets its install time, as xapi does.
   */
  public void setIsATemplate(Ref<Vm> vm, boolean value, String task) throws XenApiException {
    if (value) {
      operations.call(
          vm,
          Op.MAKE_INTO_TEMPLATE,
          task,
          () -> {
            operations.assertValid(vm, Op.MAKE_INTO_TEMPLATE);
            db.update(
                Vm.CLASS,
                vm,
                Values.of(Vm.CLASS).with(Vm.HA_ALWAYS_RUN, false).with(Vm.IS_A_TEMPLATE, true));
          });
    } else {
      Ref<VmMetrics> m = db.get(vm, Vm.METRICS);
      if (db.exists(VmMetrics.CLASS, m)) {
        db.set(m, VmMetrics.INSTALL_TIME, Instant.now().truncatedTo(ChronoUnit.SECONDS));
      }
      db.set(vm, Vm.IS_A_TEMPLATE, false);
    }
    operations.update(vm);
  }

  /** VM.set_domain_type: not "unspecified"; the HVM boot policy follows (as xapi derives it). */
  public void setDomainType(Ref<Vm> vm, String wire) throws XenApiException {
    DomainType type = null;
    for (DomainType t : DomainType.values()) {
      if (t.wire().equalsIgnoreCase(wire)) {
        type = t;
      }
    }
    if (type == null || type == DomainType.UNSPECIFIED) {
      throw new XenApiException(XenApiError.INVALID_VALUE, "domain_type", wire);
    }
    db.read(Vm.CLASS, vm);
    db.update(
        Vm.CLASS,
        vm,
        Values.of(Vm.CLASS)
            .with(Vm.DOMAIN_TYPE, type)
            .with(Vm.HVM_BOOT_POLICY, type == DomainType.HVM ? "BIOS order" : ""));
  }

  /** VM.set_affinity: a host of this pool, or the null reference. */
  public void setAffinity(Ref<Vm> vm, Ref<Host> host) throws XenApiException {
    if (!host.isNull() && !db.exists(Host.CLASS, host)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "host", host.value());
    }
    db.set(vm, Vm.AFFINITY, host);
  }
}
