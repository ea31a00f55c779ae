package org.xsm.server.vm;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.jboss.logging.Logger;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xsm.server.db.Database;
import org.xsm.server.host.HostService;
import org.xsm.server.model.DomainType;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Row;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vbd;
import org.xsm.server.model.VbdMode;
import org.xsm.server.model.VbdType;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.Vm;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.vdi.VdiService;
import org.xsm.server.vm.VmOperations.Op;

/**
 * xapi's stock templates and {@code VM.provision}. The templates are those of XenServer/XCP-ng's
 * guest-templates by their stock names, memory (static_min the template's minimum, the rest twice
 * that) and disks; each start creates the ones that are missing (found by {@code reference_label}).
 * Provision creates the disks that {@code other_config:disks} describes ({@code <provision><disk
 * device=".." size=".." sr=".." bootable=".." type=".."/></provision>}) on the SR named by uuid
 * there or, when none is named, the pool's default SR, and makes the template a VM.
 */
@ApplicationScoped
public class Templates {
  private static final Logger LOG = Logger.getLogger(Templates.class);
  private static final long MIB = 1024L * 1024;
  private static final long GIB = 1024L * MIB;

  /** One stock template: what differs between them. */
  record Stock(
      String label,
      String referenceLabel,
      String description,
      long minMemory,
      long diskSize,
      String installMethods,
      boolean linux,
      boolean uefi) {}

  static final List<Stock> STOCK =
      List.of(
          new Stock(
              "Other install media",
              "other-install-media",
              "Template which allows VM installation from install media",
              128 * MIB,
              0,
              "cdrom",
              false,
              false),
          new Stock(
              "Debian Bookworm 12",
              "debian-12",
              "",
              GIB,
              10 * GIB,
              "cdrom,nfs,http,ftp",
              true,
              true),
          new Stock(
              "Ubuntu Jammy Jellyfish 22.04",
              "ubuntu-22.04",
              "",
              GIB,
              10 * GIB,
              "cdrom,nfs,http,ftp",
              true,
              true),
          new Stock(
              "CentOS Stream 9", "centos-9", "", GIB, 10 * GIB, "cdrom,nfs,http,ftp", true, false),
          new Stock(
              "Rocky Linux 9", "rocky-9", "", 2 * GIB, 15 * GIB, "cdrom,nfs,http,ftp", true, true));

  @Inject Database db;
  @Inject VmRecords records;
  @Inject HostService hosts;
  @Inject VdiService vdis;
  @Inject VmOperations operations;

  /** Creates every stock template that is not there; returns how many it created. */
  public int ensureStockTemplates() throws XenApiException {
    int made = 0;
    for (Stock t : STOCK) {
      boolean present =
          !db.fullScan(
                  Vm.CLASS,
                  r ->
                      r.get(Vm.IS_DEFAULT_TEMPLATE)
                          && t.referenceLabel().equals(r.get(Vm.REFERENCE_LABEL)))
              .isEmpty();
      if (!present) {
        records.create(values(t));
        made++;
      }
    }
    if (made > 0) {
      LOG.infof("Created %d stock templates", made);
    }
    return made;
  }

  private static Values<Vm> values(Stock t) {
    Map<String, String> other = new LinkedHashMap<>();
    other.put("default_template", "true");
    other.put("install-methods", t.installMethods());
    other.put("mac_seed", java.util.UUID.randomUUID().toString());
    if (t.linux()) {
      other.put("linux_template", "true");
    }
    if (t.diskSize() > 0) {
      other.put(
          "disks",
          "<provision><disk device=\"0\" size=\""
              + t.diskSize()
              + "\" sr=\"\" bootable=\"true\" type=\"system\"/></provision>");
    }
    Map<String, String> platform = new LinkedHashMap<>();
    platform.put("nx", "true");
    platform.put("acpi", "1");
    platform.put("apic", "true");
    platform.put("pae", "true");
    platform.put("hpet", "true");
    platform.put("viridian", t.linux() ? "false" : "true");
    if (t.linux()) {
      platform.put("vga", "std");
      platform.put("videoram", "8");
      platform.put("device_id", "0001");
    }
    if (t.uefi()) {
      platform.put("secureboot", "auto");
    }
    Map<String, String> boot = new LinkedHashMap<>();
    boot.put("order", t.linux() ? "cdn" : "dc");
    if (t.uefi()) {
      boot.put("firmware", "uefi");
    }
    long max = 2 * t.minMemory();
    return Values.of(Vm.CLASS)
        .with(Vm.NAME_LABEL, t.label())
        .with(Vm.NAME_DESCRIPTION, t.description())
        .with(Vm.REFERENCE_LABEL, t.referenceLabel())
        .with(Vm.IS_A_TEMPLATE, true)
        .with(Vm.IS_DEFAULT_TEMPLATE, true)
        .with(Vm.USER_VERSION, 1L)
        .with(Vm.MEMORY_STATIC_MIN, t.minMemory())
        .with(Vm.MEMORY_DYNAMIC_MIN, max)
        .with(Vm.MEMORY_DYNAMIC_MAX, max)
        .with(Vm.MEMORY_STATIC_MAX, max)
        .with(Vm.MEMORY_TARGET, max)
        .with(Vm.VCPUS_MAX, 1L)
        .with(Vm.VCPUS_AT_STARTUP, 1L)
        .with(Vm.HVM_BOOT_POLICY, "BIOS order")
        .with(Vm.HVM_BOOT_PARAMS, boot)
        .with(Vm.HVM_SHADOW_MULTIPLIER, 1.0)
        .with(Vm.DOMAIN_TYPE, DomainType.HVM)
        .with(Vm.PLATFORM, platform)
        .with(Vm.OTHER_CONFIG, other)
        .with(
            Vm.RECOMMENDATIONS,
            "<restrictions><restriction field=\"memory-static-max\" max=\""
                + (t.linux() ? 1536 * GIB : 128 * GIB)
                + "\"/><restriction field=\"vcpus-max\" max=\"32\"/><restriction"
                + " property=\"number-of-vbds\" max=\"255\"/><restriction"
                + " property=\"number-of-vifs\" max=\"7\"/></restrictions>");
  }

  /** One disk of a template's {@code other_config:disks}. */
  record Disk(String device, long size, String sr, boolean bootable, VdiType type) {}

  static List<Disk> parseDisks(String xml) throws XenApiException {
    List<Disk> out = new ArrayList<>();
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      Element root =
          f.newDocumentBuilder()
              .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)))
              .getDocumentElement();
      if (!"provision".equals(root.getTagName())) {
        throw new IllegalArgumentException("root element " + root.getTagName());
      }
      NodeList disks = root.getElementsByTagName("disk");
      for (int i = 0; i < disks.getLength(); i++) {
        Element d = (Element) disks.item(i);
        VdiType type = VdiType.SYSTEM;
        for (VdiType v : VdiType.values()) {
          if (v.wire().equals(d.getAttribute("type"))) {
            type = v;
          }
        }
        out.add(
            new Disk(
                d.getAttribute("device"),
                Long.parseLong(d.getAttribute("size")),
                d.getAttribute("sr"),
                "true".equals(d.getAttribute("bootable")),
                type));
      }
    } catch (Exception e) {
      throw new XenApiException(
          XenApiError.INTERNAL_ERROR, "cannot parse other_config:disks: " + e.getMessage());
    }
    return out;
  }

  /**
   * VM.provision: creates the template's disks, then the VM is a VM ({@code is_a_template} false)
   * without the install keys. On a failure the disks made so far are destroyed.
   */
  public void provision(Ref<Vm> vm) throws XenApiException {
    Row<Vm> r = operations.assertValid(vm, Op.PROVISION);
    Map<String, String> oc = new LinkedHashMap<>(r.get(Vm.OTHER_CONFIG));
    List<Disk> disks = oc.containsKey("disks") ? parseDisks(oc.get("disks")) : List.of();
    List<Ref<Vdi>> made = new ArrayList<>();
    try {
      for (Disk d : disks) {
        Ref<Sr> sr;
        if (d.sr().isEmpty()) {
          sr = hosts.defaultSr();
          if (!db.exists(Sr.CLASS, sr)) {
            throw new XenApiException(XenApiError.VM_REQUIRES_SR, vm.value(), sr.value());
          }
        } else {
          sr = db.byUuid(Sr.CLASS, d.sr());
        }
        Ref<Vdi> vdi =
            vdis.create(
                new VdiService.VdiSpec(
                    sr,
                    d.size(),
                    d.device(),
                    "Created by template provisioner",
                    d.type(),
                    false,
                    Map.of(),
                    Map.of(),
                    null));
        made.add(vdi);
        db.create(
            Vbd.CLASS,
            Values.of(Vbd.CLASS)
                .with(Vbd.VM, vm)
                .with(Vbd.VDI, vdi)
                .with(Vbd.USERDEVICE, d.device())
                .with(Vbd.BOOTABLE, d.bootable())
                .with(Vbd.MODE, VbdMode.RW)
                .with(Vbd.TYPE, VbdType.DISK)
                .with(Vbd.UNPLUGGABLE, d.type() != VdiType.SYSTEM)
                .with(Vbd.OTHER_CONFIG, Map.of("owner", "")));
      }
    } catch (XenApiException e) {
      for (Ref<Vdi> v : made) {
        for (Ref<Vbd> vbd : db.get(v, Vdi.VBDS)) {
          db.destroy(Vbd.CLASS, vbd);
        }
        vdis.destroyQuietly(v);
      }
      throw e;
    }
    oc.remove("disks");
    oc.remove("postinstall");
    db.update(
        Vm.CLASS,
        vm,
        Values.of(Vm.CLASS)
            .with(Vm.IS_A_TEMPLATE, false)
            .with(Vm.IS_DEFAULT_TEMPLATE, false)
            .with(Vm.OTHER_CONFIG, oc));
    operations.update(vm);
  }
}
