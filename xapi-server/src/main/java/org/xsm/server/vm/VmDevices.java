package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.xsm.server.db.Database;
import org.xsm.server.model.Console;
import org.xsm.server.model.Field;
import org.xsm.server.model.Network;
import org.xsm.server.model.PowerState;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.VbdMode;
import org.xsm.server.model.VbdType;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.Vif;
import org.xsm.server.model.Vm;
import org.xsm.server.model.Vtpm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.vm.VmOperations.Op;

/**
 * The device messages beyond create/plug/unplug (xapi_vbd.ml, xapi_vif.ml, xapi_vm_helpers.ml): CD
 * media, forced unplugs, VIF plug/unplug/move with the guest's addresses following, VIF MACs
 * generated from the VM's {@code mac_seed} as xapi generates them, and the free device numbers.
 */
@ApplicationScoped
public class VmDevices {
  /** The other_config key holding the seed of a VM's generated MACs (xapi's mac_seed). */
  public static final String MAC_SEED = "mac_seed";

  private static final Pattern MAC =
      Pattern.compile("^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$|^[0-9a-fA-F]{12}$");
  private static final int VBD_DEVICES = 255; // 0..254, as xapi for HVM and PV guests
  private static final int VIF_DEVICES = 16; // 0..15

  @Inject Database db;
  @Inject VmService vms;
  @Inject GuestAgent guests;
  @Inject VmOperations operations;

  private static boolean isDeviceNumber(String d) {
    return d != null && !d.isEmpty() && d.chars().allMatch(Character::isDigit) && d.length() < 10;
  }

  /** VM.get_allowed_VBD_devices: the userdevice numbers no VBD of the VM uses. */
  public List<String> allowedVbdDevices(Ref<Vm> vm) throws XenApiException {
    Set<String> used = new HashSet<>();
    for (Ref<Vbd> vbd : db.get(vm, Vm.VBDS)) {
      Row<Vbd> b = db.readOrNull(Vbd.CLASS, vbd);
      if (b != null) {
        used.add(b.get(Vbd.USERDEVICE));
      }
    }
    return free(VBD_DEVICES, used);
  }

  /** VM.get_allowed_VIF_devices: the device numbers no VIF of the VM uses. */
  public List<String> allowedVifDevices(Ref<Vm> vm) throws XenApiException {
    Set<String> used = new HashSet<>();
    for (Ref<Vif> vif : db.get(vm, Vm.VIFS)) {
      Row<Vif> f = db.readOrNull(Vif.CLASS, vif);
      if (f != null) {
        used.add(f.get(Vif.DEVICE));
      }
    }
    return free(VIF_DEVICES, used);
  }

  private static List<String> free(int count, Set<String> used) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      if (!used.contains(Integer.toString(i))) {
        out.add(Integer.toString(i));
      }
    }
    return out;
  }

  /**
   * VBD.create: {@code userdevice} "autodetect" takes the first free number; a number in use is
   * DEVICE_ALREADY_EXISTS; an empty drive must be a CD.
   */
  public Ref<Vbd> createVbd(Values<Vbd> fields) throws XenApiException {
    Object vm = fields.stored().get(Vbd.VM.name());
    Ref<Vm> owner = Ref.of(String.valueOf(vm));
    if (vm == null || !db.exists(Vm.CLASS, owner)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "VM", String.valueOf(vm));
    }
    Object dev = fields.stored().get(Vbd.USERDEVICE.name());
    String userdevice = dev == null ? "" : dev.toString();
    List<String> free = allowedVbdDevices(owner);
    if ("autodetect".equals(userdevice)) {
      if (free.isEmpty()) {
        throw new XenApiException(XenApiError.INVALID_DEVICE, userdevice);
      }
      fields.with(Vbd.USERDEVICE, free.get(0));
    } else if (isDeviceNumber(userdevice) && !free.contains(userdevice)) {
      throw new XenApiException(XenApiError.DEVICE_ALREADY_EXISTS, userdevice);
    }
    Ref<Vbd> vbd = vms.createVbd(fields);
    operations.update(owner);
    return vbd;
  }

  /** VIF.create: an empty MAC is generated; a bad one is MAC_INVALID; devices are numbers. */
  public Ref<Vif> createVif(Values<Vif> fields) throws XenApiException {
    Object vm = fields.stored().get(Vif.VM.name());
    Ref<Vm> owner = Ref.of(String.valueOf(vm));
    if (vm == null || !db.exists(Vm.CLASS, owner)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "VM", String.valueOf(vm));
    }
    Object dev = fields.stored().get(Vif.DEVICE.name());
    String device = dev == null ? "" : dev.toString();
    if (!isDeviceNumber(device)) {
      throw new XenApiException(XenApiError.INVALID_DEVICE, device);
    }
    if (!allowedVifDevices(owner).contains(device)) {
      throw new XenApiException(XenApiError.DEVICE_ALREADY_EXISTS, device);
    }
    Object m = fields.stored().get(Vif.MAC.name());
    String mac = m == null ? "" : m.toString();
    boolean generated = mac.isEmpty();
    if (generated) {
      mac = generateMac(Integer.parseInt(device), macSeed(owner));
    } else if (!MAC.matcher(mac).matches()) {
      throw new XenApiException(XenApiError.MAC_INVALID, mac);
    }
    fields.with(Vif.MAC, mac).with(Vif.MAC_AUTOGENERATED, generated);
    fields.with(Vif.CURRENTLY_ATTACHED, false);
    Ref<Vif> vif = vms.createVif(fields);
    operations.update(owner);
    return vif;
  }

  /** The VM's MAC seed; a VM made before seeds existed gets one now. */
  private String macSeed(Ref<Vm> vm) throws XenApiException {
    String seed = db.get(vm, Vm.OTHER_CONFIG).get(MAC_SEED);
    if (seed == null) {
      seed = UUID.randomUUID().toString();
      Map<String, String> oc = new LinkedHashMap<>(db.get(vm, Vm.OTHER_CONFIG));
      oc.put(MAC_SEED, seed);
      db.set(vm, Vm.OTHER_CONFIG, oc);
    }
    return seed;
  }

  /**
   * xapi's MAC for VIF {@code device} of a VM with {@code seed}: MD5 applied {@code 2*device+1}
   * times to the seed gives four bytes, its MD5 two more; the first byte is made unicast and
   * locally administered.
   */
  static String generateMac(int device, String seed) {
    try {
      MessageDigest md5 = MessageDigest.getInstance("MD5");
      byte[] h = md5.digest(seed.getBytes(StandardCharsets.ISO_8859_1));
      for (int i = 0; i < device * 2; i++) {
        h = md5.digest(h);
      }
      byte[] h2 = md5.digest(h);
      int[] b = {h[0] & 0xff, h[1] & 0xff, h[2] & 0xff, h[3] & 0xff, h2[1] & 0xff, h2[2] & 0xff};
      b[0] = (b[0] & 0xfe) | 0x02;
      return String.format("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is part of every JDK", e);
    }
  }

  private Row<Vbd> cd(Ref<Vbd> vbd) throws XenApiException {
    Row<Vbd> b = db.read(Vbd.CLASS, vbd);
    if (b.get(Vbd.TYPE) != VbdType.CD && b.get(Vbd.TYPE) != VbdType.FLOPPY) {
      throw new XenApiException(XenApiError.VBD_NOT_REMOVABLE_MEDIA, vbd.value());
    }
    return b;
  }

  private boolean live(Ref<Vm> vm) throws XenApiException {
    PowerState s = db.get(vm, Vm.POWER_STATE);
    return s == PowerState.RUNNING || s == PowerState.PAUSED;
  }

  /** VBD.insert: media into an empty CD drive; plugged at once on a running VM. */
  public void insert(Ref<Vbd> vbd, Ref<Vdi> vdi) throws XenApiException {
    Row<Vbd> b = cd(vbd);
    if (!b.get(Vbd.EMPTY)) {
      throw new XenApiException(XenApiError.VBD_NOT_EMPTY, vbd.value());
    }
    if (!db.exists(Vdi.CLASS, vdi)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "VDI", vdi.value());
    }
    db.update(
        Vbd.CLASS,
        vbd,
        Values.of(Vbd.CLASS).with(Vbd.VDI, vdi).with(Vbd.EMPTY, false).with(Vbd.MODE, VbdMode.RO));
    Ref<Vm> vm = b.get(Vbd.VM);
    if (live(vm) && !b.get(Vbd.CURRENTLY_ATTACHED)) {
      vms.plug(vbd);
    }
    operations.update(vm);
  }

  /** VBD.eject: the media out of a CD drive, which stays. */
  public void eject(Ref<Vbd> vbd) throws XenApiException {
    Row<Vbd> b = cd(vbd);
    if (b.get(Vbd.EMPTY)) {
      throw new XenApiException(XenApiError.VBD_IS_EMPTY, vbd.value());
    }
    if (b.get(Vbd.CURRENTLY_ATTACHED)) {
      vms.unplug(vbd);
    }
    db.update(
        Vbd.CLASS, vbd, Values.of(Vbd.CLASS).with(Vbd.VDI, Ref.nullRef()).with(Vbd.EMPTY, true));
    operations.update(b.get(Vbd.VM));
  }

  /** VBD.unplug: refused for a VBD that is not unpluggable (the system disk of a live VM). */
  public void unplug(Ref<Vbd> vbd, boolean force) throws XenApiException {
    Row<Vbd> b = db.read(Vbd.CLASS, vbd);
    if (!force && !b.get(Vbd.UNPLUGGABLE) && live(b.get(Vbd.VM))) {
      throw new XenApiException(XenApiError.VBD_NOT_UNPLUGGABLE, vbd.value());
    }
    vms.unplug(vbd);
    operations.update(b.get(Vbd.VM));
  }

  /** VBD.plug, then the VM's operations. */
  public void plug(Ref<Vbd> vbd) throws XenApiException {
    vms.plug(vbd);
    operations.update(db.get(vbd, Vbd.VM));
  }

  /** VBD.assert_attachable: the disk is not attached read-write by a VBD of another VM. */
  public void assertAttachable(Ref<Vbd> vbd) throws XenApiException {
    Row<Vbd> b = db.read(Vbd.CLASS, vbd);
    Ref<Vdi> vdi = b.get(Vbd.VDI);
    if (b.get(Vbd.EMPTY) || !db.exists(Vdi.CLASS, vdi)) {
      return;
    }
    for (Ref<Vbd> other : db.get(vdi, Vdi.VBDS)) {
      Row<Vbd> o = db.readOrNull(Vbd.CLASS, other);
      if (o != null
          && !other.equals(vbd)
          && o.get(Vbd.CURRENTLY_ATTACHED)
          && (o.get(Vbd.MODE) == VbdMode.RW || b.get(Vbd.MODE) == VbdMode.RW)
          && !db.get(vdi, Vdi.SHARABLE)) {
        throw new XenApiException(XenApiError.VDI_IN_USE, vdi.value(), "attach");
      }
    }
  }

  /** VIF.plug: onto a running VM; the guest reports an address for it. */
  public void plugVif(Ref<Vif> vif) throws XenApiException {
    Row<Vif> f = db.read(Vif.CLASS, vif);
    Ref<Vm> vm = f.get(Vif.VM);
    PowerState s = db.get(vm, Vm.POWER_STATE);
    if (s != PowerState.RUNNING) {
      throw new XenApiException(XenApiError.VM_BAD_POWER_STATE, vm.value(), "running", lower(s));
    }
    if (f.get(Vif.CURRENTLY_ATTACHED)) {
      throw new XenApiException(XenApiError.DEVICE_ALREADY_ATTACHED, vif.value());
    }
    db.set(vif, Vif.CURRENTLY_ATTACHED, true);
    guests.networksChanged(vm);
    operations.update(vm);
  }

  /** VIF.unplug and VIF.unplug_force. */
  public void unplugVif(Ref<Vif> vif) throws XenApiException {
    Row<Vif> f = db.read(Vif.CLASS, vif);
    if (!f.get(Vif.CURRENTLY_ATTACHED)) {
      throw new XenApiException(XenApiError.DEVICE_ALREADY_DETACHED, vif.value());
    }
    db.set(vif, Vif.CURRENTLY_ATTACHED, false);
    guests.networksChanged(f.get(Vif.VM));
    operations.update(f.get(Vif.VM));
  }

  /** VIF.move: to another network, replugged if it was plugged. */
  public void moveVif(Ref<Vif> vif, Ref<Network> network) throws XenApiException {
    db.read(Vif.CLASS, vif);
    if (!db.exists(Network.CLASS, network)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "network", network.value());
    }
    db.set(vif, Vif.NETWORK, network);
  }

  private static String lower(PowerState s) {
    return s.wire().toLowerCase(java.util.Locale.ROOT);
  }

  /** The VM a new device record names in {@code field}; HANDLE_INVALID when there is none. */
  private Ref<Vm> owner(Values<?> fields, Field<?, ?> field) throws XenApiException {
    Ref<Vm> vm = Ref.of(String.valueOf(fields.stored().get(field.name())));
    if (!db.exists(Vm.CLASS, vm)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, "VM", vm.value());
    }
    return vm;
  }

  /**
   * VTPM.create: one per VM (VTPM_MAX_AMOUNT_REACHED), added while it is halted; the backend is the
   * control domain unless the record names one.
   */
  public Ref<Vtpm> createVtpm(Values<Vtpm> fields) throws XenApiException {
    Ref<Vm> vm = owner(fields, Vtpm.VM);
    Row<Vm> r = operations.assertValid(vm, Op.START);
    if (!r.get(Vm.VTPMS).isEmpty()) {
      throw new XenApiException(
          XenApiError.VTPM_MAX_AMOUNT_REACHED, Integer.toString(r.get(Vm.VTPMS).size()));
    }
    Ref<Vm> backend = Ref.of(String.valueOf(fields.stored().get(Vtpm.BACKEND.name())));
    if (!db.exists(Vm.CLASS, backend)) {
      List<Ref<Vm>> dom0 = db.fullScan(Vm.CLASS, x -> x.get(Vm.IS_CONTROL_DOMAIN));
      fields.with(Vtpm.BACKEND, dom0.isEmpty() ? Ref.nullRef() : dom0.get(0));
    }
    return db.create(Vtpm.CLASS, fields);
  }

  /** VTPM.destroy: only while its VM is halted. */
  public void destroyVtpm(Ref<Vtpm> vtpm) throws XenApiException {
    Ref<Vm> vm = db.get(vtpm, Vtpm.VM);
    if (db.exists(Vm.CLASS, vm)) {
      PowerState s = db.get(vm, Vm.POWER_STATE);
      if (s != PowerState.HALTED) {
        throw new XenApiException(XenApiError.VM_BAD_POWER_STATE, vm.value(), "halted", lower(s));
      }
    }
    db.destroy(Vtpm.CLASS, vtpm);
  }

  /** console.create: a console record of an existing VM. */
  public Ref<Console> createConsole(Values<Console> fields) throws XenApiException {
    owner(fields, Console.VM);
    return db.create(Console.CLASS, fields);
  }
}
