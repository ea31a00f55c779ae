package org.xsm.server.sr;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.xsm.api.ProbeResult;
import org.xsm.api.SmException;
import org.xsm.api.SrConfig;
import org.xsm.server.db.Database;
import org.xsm.server.model.Host;
import org.xsm.server.model.Pbd;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Sr;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;

/** SR and PBD lifecycle: create, introduce, probe, forget, destroy; PBDs made and removed. */
@ApplicationScoped
public class SrLifecycle {
  private static final org.jboss.logging.Logger LOG =
      org.jboss.logging.Logger.getLogger(SrLifecycle.class);

  @Inject DeviceConfigSecrets secrets;
  @Inject Database db;
  @Inject SrService srs;

  /** What SR.create and SR.introduce are told about the new SR. */
  public record SrSpec(
      String nameLabel,
      String nameDescription,
      String type,
      String contentType,
      boolean shared,
      Map<String, String> smConfig) {}

  /** SR.create: the driver makes the SR, then its record and PBD; it is plugged and scanned. */
  public Ref<Sr> create(
      Ref<Host> host, Map<String, String> deviceConfig, long physicalSize, SrSpec spec)
      throws XenApiException {
    requireExists(Host.CLASS, host);
    String uuid = UUID.randomUUID().toString();
    try {
      srs.driver(spec.type()).create(new SrConfig(uuid, deviceConfig), physicalSize);
    } catch (SmException e) {
      throw SmErrors.of(e, spec.type());
    }
    Ref<Sr> sr = db.create(Sr.CLASS, record(spec).with(Sr.UUID, uuid));
    Ref<Pbd> pbd = createPbd(host, sr, deviceConfig, Map.of());
    srs.plug(pbd);
    if (spec.shared()) {
      // A PBD for every other host of the pool, plugged there by its agent (a host that cannot
      // plug it now keeps it unplugged; the master plugs it again while the host is live).
      for (Ref<Host> other : db.all(Host.CLASS)) {
        if (!other.equals(host)) {
          Ref<Pbd> theirs = createPbd(other, sr, deviceConfig, Map.of());
          try {
            srs.plug(theirs);
          } catch (XenApiException e) {
            LOG.warnf("shared SR %s not plugged on host %s yet: %s", uuid, other, e.getMessage());
          }
        }
      }
    }
    srs.scan(sr);
    return sr;
  }

  /** SR.introduce: a record for an SR that exists on its storage (a PBD must follow). */
  public Ref<Sr> introduce(String uuid, SrSpec spec) throws XenApiException {
    srs.driver(spec.type());
    return db.create(Sr.CLASS, record(spec).with(Sr.UUID, uuid));
  }

  private static Values<Sr> record(SrSpec spec) {
    return Values.of(Sr.CLASS)
        .with(Sr.NAME_LABEL, spec.nameLabel())
        .with(Sr.NAME_DESCRIPTION, spec.nameDescription())
        .with(Sr.TYPE, spec.type())
        .with(Sr.CONTENT_TYPE, spec.contentType())
        .with(Sr.SHARED, spec.shared())
        .with(Sr.SM_CONFIG, spec.smConfig());
  }

  public Ref<Pbd> createPbd(
      Ref<Host> host, Ref<Sr> sr, Map<String, String> deviceConfig, Map<String, String> other)
      throws XenApiException {
    requireExists(Host.CLASS, host);
    requireExists(Sr.CLASS, sr);
    return db.create(
        Pbd.CLASS,
        Values.of(Pbd.CLASS)
            .with(Pbd.HOST, host)
            .with(Pbd.SR, sr)
            .with(Pbd.DEVICE_CONFIG, secrets.protect(deviceConfig))
            .with(Pbd.OTHER_CONFIG, other));
  }

  private <C> void requireExists(org.xsm.server.model.XClass<C> c, Ref<C> ref)
      throws XenApiException {
    if (!db.exists(c, ref)) {
      throw new XenApiException(XenApiError.HANDLE_INVALID, c.name(), ref.value());
    }
  }

  public void destroyPbd(Ref<Pbd> pbd) throws XenApiException {
    if (db.get(pbd, Pbd.CURRENTLY_ATTACHED)) {
      throw new XenApiException(XenApiError.OPERATION_NOT_ALLOWED, "PBD " + pbd + " is plugged");
    }
    secrets.forget(db.get(pbd, Pbd.DEVICE_CONFIG));
    db.destroy(Pbd.CLASS, pbd);
  }

  /** What a driver finds with a device config (SR.probe, SR.probe_ext). */
  public List<ProbeResult> found(Map<String, String> deviceConfig, String type)
      throws XenApiException {
    try {
      return srs.driver(type).probe(deviceConfig);
    } catch (SmException e) {
      throw SmErrors.of(e, type);
    }
  }

  /**
   * SR.probe_ext: xapi's probe_result records, one per SR found: the configuration that attaches
   * it, whether it is complete, and the SR's figures where the driver gave them.
   */
  public List<Map<String, Object>> probeExt(Map<String, String> deviceConfig, String type)
      throws XenApiException {
    List<Map<String, Object>> out = new java.util.ArrayList<>();
    for (ProbeResult p : found(deviceConfig, type)) {
      Map<String, Object> stat = new java.util.LinkedHashMap<>();
      stat.put("uuid", p.srUuid());
      stat.put("name_label", p.details().getOrDefault("name_label", ""));
      stat.put("name_description", p.details().getOrDefault("name_description", ""));
      stat.put("free_space", Long.parseLong(p.details().getOrDefault("free_space", "0")));
      stat.put("total_space", Long.parseLong(p.details().getOrDefault("total_space", "0")));
      stat.put("clustered", false);
      stat.put("health", "healthy");
      Map<String, Object> r = new java.util.LinkedHashMap<>();
      r.put("configuration", deviceConfig);
      r.put("complete", true);
      r.put("sr", stat);
      r.put("extra_info", p.details());
      out.add(r);
    }
    return out;
  }

  /** SR.probe: the SRs a driver finds with a device config, as xapi's XML. */
  public String probe(Map<String, String> deviceConfig, String type) throws XenApiException {
    List<ProbeResult> found = found(deviceConfig, type);
    StringBuilder x = new StringBuilder("<?xml version=\"1.0\" ?><SRlist>");
    for (ProbeResult p : found) {
      x.append("<SR><UUID>").append(p.srUuid()).append("</UUID></SR>");
    }
    return x.append("</SRlist>").toString();
  }

  /** SR.forget: unplugs it and drops its records; the storage keeps its data. */
  public void forget(Ref<Sr> sr) throws XenApiException {
    for (Ref<Pbd> pbd : db.get(sr, Sr.PBDS)) {
      srs.unplug(pbd);
      secrets.forget(db.get(pbd, Pbd.DEVICE_CONFIG));
      db.destroy(Pbd.CLASS, pbd);
    }
    for (Ref<Vdi> vdi : db.get(sr, Sr.VDIS)) {
      db.destroy(Vdi.CLASS, vdi);
    }
    db.destroy(Sr.CLASS, sr);
  }

  /** SR.destroy: the driver deletes the SR's storage, then it is forgotten. */
  public void destroy(Ref<Sr> sr) throws XenApiException {
    List<Ref<Pbd>> pbds = db.get(sr, Sr.PBDS);
    if (pbds.isEmpty()) {
      throw new XenApiException(XenApiError.SR_HAS_NO_PBDS, sr.value());
    }
    Map<String, String> dc = secrets.reveal(db.get(pbds.get(0), Pbd.DEVICE_CONFIG));
    String type = db.get(sr, Sr.TYPE);
    String uuid = db.get(sr, Sr.UUID);
    for (Ref<Pbd> pbd : pbds) {
      srs.unplug(pbd);
    }
    try {
      srs.driver(type).delete(new SrConfig(uuid, dc));
    } catch (SmException e) {
      srs.plug(pbds.get(0));
      throw SmErrors.of(e, sr.value());
    }
    forget(sr);
  }
}
