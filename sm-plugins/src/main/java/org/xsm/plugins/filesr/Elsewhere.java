package org.xsm.plugins.filesr;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.xsm.api.RemoteDevice;
import org.xsm.api.SmException;

/**
 * The VDIs of a shared SR active on other hosts of the pool, as the SR master knows them ({@code
 * Sr.activeElsewhere}). The master's tree operations pause them with its own devices ({@link
 * FileSr#pausables}): the other host's I/O waits and its files are closed while the chain changes,
 * and it reopens the new chain from the storage when resumed. Registered before the other host
 * activates the VDI and removed after it deactivated it, so no change can fall between an
 * activation and its registration (the other host's activation waits for the store lock the master
 * holds during a change). The collector does not leaf-coalesce these VDIs: their writes happen
 * where it cannot track them.
 */
final class Elsewhere {
  private final Map<String, RemoteDevice> active = new ConcurrentHashMap<>();

  void add(String location, RemoteDevice device) {
    active.put(location, device);
  }

  void remove(String location) {
    active.remove(location);
  }

  boolean contains(String location) {
    return active.containsKey(location);
  }

  /** The other host's device of {@code location} as a {@link Pausable}, if it is active there. */
  void addPausable(String location, List<Pausable> out) {
    RemoteDevice d = active.get(location);
    if (d != null) {
      out.add(new Remote(location, d));
    }
  }

  List<String> locations() {
    return new ArrayList<>(active.keySet());
  }

  /** Another host's device: a pause suspends it there; keeping the parents open is its affair. */
  private record Remote(String location, RemoteDevice device) implements Pausable {
    @Override
    public void pause() throws IOException {
      try {
        device.suspend();
      } catch (SmException e) {
        throw new IOException(
            "VDI " + location + " is active on another host, which did not suspend it: " + e, e);
      }
    }

    @Override
    public void pauseKeepingParents() throws IOException {
      pause();
    }

    @Override
    public void resume() throws IOException {
      try {
        device.resume();
      } catch (SmException e) {
        throw new IOException(
            "VDI " + location + " is active on another host, which did not resume it: " + e, e);
      }
    }
  }
}
