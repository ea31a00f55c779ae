package org.xsm.iscsi;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.xsm.api.VdiInfo;
import org.xsm.api.VdiMetadata;
import org.xsm.iscsi.control.Lun;

/**
 * How the iSCSI SR keeps its own data in the array's per-LUN {@code metadata} map. Every LUN of an
 * SR carries {@value #SR} (the SR's UUID) and {@value #ROLE}: {@value #ROLE_RECORD} for the one
 * small LUN that records that the SR exists, {@value #ROLE_VDI} for VDIs. A VDI LUN also carries
 * its VDI UUID and the caller's {@link VdiMetadata}; a LUN made behind the driver's back without
 * {@value #VDI_UUID} is named by its LUN id.
 *
 * <p>{@value #CBT_EPOCH} marks changed-block tracking (see {@link IscsiCbt}).
 *
 * <p>All keys of one LUN are written in the same control API call (create, snapshot, clone,
 * metadata PUT), which the array applies atomically: a crash leaves a LUN with its old or its new
 * metadata, never a mix.
 */
final class LunMetadata {
  static final String SR = "xsm-sr";
  static final String ROLE = "xsm-role";
  static final String ROLE_RECORD = "sr-record";
  static final String ROLE_VDI = "vdi";
  static final String VDI_UUID = "xsm-vdi-uuid";
  static final String NAME_LABEL = "xsm-name-label";
  static final String NAME_DESCRIPTION = "xsm-name-description";
  static final String TYPE = "xsm-type";
  static final String IS_A_SNAPSHOT = "xsm-is-a-snapshot";
  static final String SNAPSHOT_OF = "xsm-snapshot-of";
  static final String SNAPSHOT_TIME = "xsm-snapshot-time";

  /**
   * Set while changed-block tracking is on: an id of the tracking span, made by enable CBT and
   * copied to every snapshot and clone. Changes can be listed between two VDIs with the same value
   * (tracking was on, without a break, since the earlier one was taken).
   */
  static final String CBT_EPOCH = "xsm-cbt-epoch";

  /** The type of a VDI whose data was destroyed. */
  static final String TYPE_CBT_METADATA = "cbt_metadata";

  private LunMetadata() {}

  static Map<String, String> record(String srUuid) {
    return Map.of(SR, srUuid, ROLE, ROLE_RECORD);
  }

  static boolean isRecord(Lun lun) {
    return ROLE_RECORD.equals(lun.metadata().get(ROLE)) && lun.metadata().get(SR) != null;
  }

  static boolean isRecordOf(Lun lun, String srUuid) {
    return isRecord(lun) && srUuid.equals(lun.metadata().get(SR));
  }

  static boolean isVdiOf(Lun lun, String srUuid) {
    return srUuid.equals(lun.metadata().get(SR)) && !isRecord(lun);
  }

  static String vdiUuid(Lun lun) {
    return lun.metadata().getOrDefault(VDI_UUID, lun.id());
  }

  /** The map for a VDI LUN: SR, role, UUID, and the caller's metadata (if any). */
  static Map<String, String> vdi(String srUuid, String vdiUuid, VdiMetadata m) {
    Map<String, String> map = new LinkedHashMap<>();
    map.put(SR, srUuid);
    map.put(ROLE, ROLE_VDI);
    map.put(VDI_UUID, vdiUuid);
    if (m != null) {
      putIfNotNull(map, NAME_LABEL, m.nameLabel());
      putIfNotNull(map, NAME_DESCRIPTION, m.nameDescription());
      putIfNotNull(map, TYPE, m.type());
      map.put(IS_A_SNAPSHOT, Boolean.toString(m.isASnapshot()));
      putIfNotNull(map, SNAPSHOT_OF, m.snapshotOf());
      putIfNotNull(
          map, SNAPSHOT_TIME, m.snapshotTime() == null ? null : m.snapshotTime().toString());
    }
    return map;
  }

  /** {@code current} with the caller's metadata replaced by {@code m}; other keys are kept. */
  static Map<String, String> withVdiMetadata(Map<String, String> current, VdiMetadata m) {
    Map<String, String> map = new LinkedHashMap<>(current);
    for (String k :
        new String[] {
          NAME_LABEL, NAME_DESCRIPTION, TYPE, IS_A_SNAPSHOT, SNAPSHOT_OF, SNAPSHOT_TIME
        }) {
      map.remove(k);
    }
    Map<String, String> fresh = vdi("", "", m);
    fresh.remove(SR);
    fresh.remove(ROLE);
    fresh.remove(VDI_UUID);
    map.putAll(fresh);
    return map;
  }

  /** The caller's metadata stored on the LUN, or null if none was stored. */
  static VdiMetadata decode(Map<String, String> map) {
    if (!map.containsKey(IS_A_SNAPSHOT)) {
      return null;
    }
    Instant time = null;
    String t = map.get(SNAPSHOT_TIME);
    if (t != null) {
      try {
        time = Instant.parse(t);
      } catch (DateTimeParseException e) {
        // A value written by another tool: the time is lost, the rest of the metadata is kept.
        time = null;
      }
    }
    return new VdiMetadata(
        map.get(NAME_LABEL),
        map.get(NAME_DESCRIPTION),
        map.get(TYPE),
        Boolean.parseBoolean(map.get(IS_A_SNAPSHOT)),
        map.get(SNAPSHOT_OF),
        time);
  }

  /**
   * The VDI a LUN of the SR is: UUID and metadata from the map, size and read-only from the LUN.
   */
  static VdiInfo info(Lun lun) {
    Map<String, String> smConfig = new HashMap<>();
    smConfig.put("lun-id", lun.id());
    smConfig.put("lun", Integer.toString(lun.lun()));
    if (lun.snapshotOf() != null) {
      smConfig.put("lun-snapshot-of", lun.snapshotOf());
    }
    if (lun.cloneOf() != null) {
      smConfig.put("lun-clone-of", lun.cloneOf());
    }
    VdiMetadata meta = decode(lun.metadata());
    if (lun.dataDestroyed() && meta != null && !TYPE_CBT_METADATA.equals(meta.type())) {
      // the array says the data is gone, whatever the map says
      meta =
          new VdiMetadata(
              meta.nameLabel(),
              meta.nameDescription(),
              TYPE_CBT_METADATA,
              meta.isASnapshot(),
              meta.snapshotOf(),
              meta.snapshotTime());
    }
    if (lun.dataDestroyed()) {
      smConfig.put("lun-data-destroyed", "true");
    }
    return new VdiInfo(
        vdiUuid(lun),
        lun.id(),
        lun.sizeBytes(),
        lun.allocatedBytes(),
        lun.readOnly(),
        true,
        smConfig,
        meta,
        cbtEpoch(lun) != null);
  }

  /** The LUN's tracking span, or null if CBT is off for it. */
  static String cbtEpoch(Lun lun) {
    return lun.metadata().get(CBT_EPOCH);
  }

  private static void putIfNotNull(Map<String, String> map, String key, String value) {
    if (value != null) {
      map.put(key, value);
    }
  }
}
