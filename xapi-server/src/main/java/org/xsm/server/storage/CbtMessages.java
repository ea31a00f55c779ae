package org.xsm.server.storage;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Base64;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import org.xsm.api.ChangedBlocks;
import org.xsm.api.Sr;
import org.xsm.server.db.Database;
import org.xsm.server.rpc.Dispatcher;
import org.xsm.server.rpc.Params;
import org.xsm.server.rpc.RpcModule;
import org.xsm.server.rpc.XenApiException;

/**
 * Changed-block tracking as xapi offers it: {@code VDI.enable_cbt}, {@code VDI.disable_cbt}, {@code
 * VDI.list_changed_blocks} and {@code VDI.data_destroy}, over the SR's CBT (which keeps the
 * tracking through snapshot, clone, revert and coalesce).
 */
@ApplicationScoped
public class CbtMessages implements RpcModule {
  /** xapi's CBT granularity: one bit of {@code list_changed_blocks} per 64 KiB. */
  public static final int BLOCK_SIZE_BYTES = 64 * 1024;

  @Inject Database db;
  @Inject StorageService storage;

  @Override
  public void register(Dispatcher d) {
    d.register("VDI.enable_cbt", 2, true, true, (c, a) -> setCbt(Params.str(a, 0), true));
    d.register("VDI.disable_cbt", 2, true, true, (c, a) -> setCbt(Params.str(a, 0), false));
    d.register(
        "VDI.list_changed_blocks",
        3,
        true,
        false,
        (c, a) -> listChangedBlocks(Params.str(a, 0), Params.str(a, 1)));
    d.register("VDI.data_destroy", 2, true, true, (c, a) -> dataDestroy(Params.str(a, 0)));
  }

  private Sr srOf(String vdi) throws XenApiException {
    return storage.sr((String) db.field("VDI", vdi, "SR"));
  }

  private String loc(String vdi) throws XenApiException {
    return (String) db.field("VDI", vdi, "location");
  }

  private Object setCbt(String vdi, boolean on) throws XenApiException {
    Sr sr = srOf(vdi);
    String loc = loc(vdi);
    storage.sm(
        on ? "vdi_enable_cbt" : "vdi_disable_cbt",
        vdi,
        () -> {
          if (on) {
            sr.enableCbt(loc);
          } else {
            sr.disableCbt(loc);
          }
          return null;
        });
    db.set("VDI", vdi, "cbt_enabled", on);
    return "";
  }

  /**
   * The blocks changed from {@code from} to {@code to} as xapi encodes them: base64 of a bitmap,
   * one bit per 64 KiB block, block 0 in the most significant bit of the first byte.
   */
  private Object listChangedBlocks(String from, String to) throws XenApiException {
    if (!db.field("VDI", from, "SR").equals(db.field("VDI", to, "SR"))) {
      throw new XenApiException("VDI_NOT_IN_SAME_SR", from, to);
    }
    Sr sr = srOf(from);
    String f = loc(from);
    String t = loc(to);
    ChangedBlocks cb = storage.sm("vdi_list_changed_blocks", to, () -> sr.listChangedBlocks(f, t));
    return Base64.getEncoder().encodeToString(toXapiBitmap(cb));
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

  private Object dataDestroy(String vdi) throws XenApiException {
    Sr sr = srOf(vdi);
    String loc = loc(vdi);
    storage.sm(
        "vdi_data_destroy",
        vdi,
        () -> {
          sr.dataDestroy(loc);
          return null;
        });
    Map<String, Object> f = new HashMap<>();
    f.put("type", "cbt_metadata");
    f.put("physical_utilisation", 0L);
    db.set("VDI", vdi, f);
    return "";
  }
}
