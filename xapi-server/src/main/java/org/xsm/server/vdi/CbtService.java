package org.xsm.server.vdi;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Base64;
import java.util.BitSet;
import org.xsm.api.ChangedBlocks;
import org.xsm.server.db.Database;
import org.xsm.server.model.Ref;
import org.xsm.server.model.Values;
import org.xsm.server.model.Vdi;
import org.xsm.server.model.VdiType;
import org.xsm.server.model.XenApiError;
import org.xsm.server.model.XenApiException;
import org.xsm.server.sr.SrService;

/**
 * Changed-block tracking as xapi offers it: {@code VDI.enable_cbt}, {@code VDI.disable_cbt}, {@code
 * VDI.list_changed_blocks} and {@code VDI.data_destroy}, over the SR's CBT (which keeps the
 * tracking through snapshot, clone, revert and coalesce).
 */
@ApplicationScoped
public class CbtService {
  /** xapi's CBT granularity: one bit of {@code list_changed_blocks} per 64 KiB. */
  public static final int BLOCK_SIZE_BYTES = 64 * 1024;

  @Inject Database db;
  @Inject SrService srs;

  public void setCbt(Ref<Vdi> vdi, boolean on) throws XenApiException {
    org.xsm.api.Sr sr = srs.plugin(db.get(vdi, Vdi.SR));
    String loc = db.get(vdi, Vdi.LOCATION);
    srs.smRun(
        on ? "vdi_enable_cbt" : "vdi_disable_cbt",
        vdi,
        () -> {
          if (on) {
            sr.enableCbt(loc);
          } else {
            sr.disableCbt(loc);
          }
        });
    db.set(vdi, Vdi.CBT_ENABLED, on);
  }

  /**
   * The blocks changed from {@code from} to {@code to} as xapi encodes them: base64 of a bitmap,
   * one bit per 64 KiB block, block 0 in the most significant bit of the first byte.
   */
  public String listChangedBlocks(Ref<Vdi> from, Ref<Vdi> to) throws XenApiException {
    return Base64.getEncoder().encodeToString(toXapiBitmap(changedBlocks(from, to)));
  }

  /**
   * The blocks changed from {@code from} to {@code to}, at the SR's granularity (what {@link
   * #listChangedBlocks} encodes); {@code from} may be a {@code cbt_metadata} VDI whose data is
   * gone.
   */
  public ChangedBlocks changedBlocks(Ref<Vdi> from, Ref<Vdi> to) throws XenApiException {
    if (!db.get(from, Vdi.SR).equals(db.get(to, Vdi.SR))) {
      throw new XenApiException(XenApiError.VDI_NOT_IN_SAME_SR, from.value(), to.value());
    }
    org.xsm.api.Sr sr = srs.plugin(db.get(from, Vdi.SR));
    String f = db.get(from, Vdi.LOCATION);
    String t = db.get(to, Vdi.LOCATION);
    return srs.sm("vdi_list_changed_blocks", to, () -> sr.listChangedBlocks(f, t));
  }

  /** Whether the changes between two VDIs can come from CBT: it is enabled on both. */
  public boolean tracksBoth(Ref<Vdi> a, Ref<Vdi> b) throws XenApiException {
    return db.get(a, Vdi.CBT_ENABLED) && db.get(b, Vdi.CBT_ENABLED);
  }

  /** The bitmap of {@link ChangedBlocks} regrouped to 64 KiB blocks, most significant bit first. */
  static byte[] toXapiBitmap(ChangedBlocks cb) {
    long blocks = (cb.virtualSizeBytes() + BLOCK_SIZE_BYTES - 1) / BLOCK_SIZE_BYTES;
    byte[] out = new byte[(int) ((blocks + 7) / 8)];
    BitSet changed = cb.changed();
    long g = cb.blockSizeBytes();
    for (int i = changed.nextSetBit(0); i >= 0; i = changed.nextSetBit(i + 1)) {
      long first = i * g / BLOCK_SIZE_BYTES;
      long last = Math.min(blocks, ((i + 1) * g + BLOCK_SIZE_BYTES - 1) / BLOCK_SIZE_BYTES);
      for (long b = first; b < last; b++) {
        out[(int) (b >>> 3)] |= (byte) (0x80 >>> (b & 7));
      }
    }
    return out;
  }

  /** VDI.data_destroy: the data goes, the CBT metadata stays (a cbt_metadata VDI). */
  public void dataDestroy(Ref<Vdi> vdi) throws XenApiException {
    org.xsm.api.Sr sr = srs.plugin(db.get(vdi, Vdi.SR));
    String loc = db.get(vdi, Vdi.LOCATION);
    srs.smRun("vdi_data_destroy", vdi, () -> sr.dataDestroy(loc));
    db.update(
        Vdi.CLASS,
        vdi,
        Values.of(Vdi.CLASS)
            .with(Vdi.TYPE, VdiType.CBT_METADATA)
            .with(Vdi.PHYSICAL_UTILISATION, 0L));
  }
}
