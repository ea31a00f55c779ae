package org.xsm.plugins.registry;

import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import org.xsm.api.SmDriver;
import org.xsm.api.SmError;
import org.xsm.api.SmException;

/**
 * The SM drivers on the class path, found with {@link ServiceLoader} and keyed by SR type ({@code
 * ext}, {@code nfs}, {@code iscsi}). Callers never import a backend class.
 */
public final class PluginRegistry {
  private final Map<String, SmDriver> drivers = new TreeMap<>();

  private PluginRegistry(Iterable<SmDriver> found) {
    for (SmDriver d : found) {
      String type = d.info().type();
      SmDriver dup = drivers.putIfAbsent(type, d);
      if (dup != null) {
        throw new IllegalStateException(
            "two drivers for SR type '"
                + type
                + "': "
                + dup.getClass().getName()
                + " and "
                + d.getClass().getName());
      }
    }
  }

  /** The drivers visible to this class's class loader. */
  public static PluginRegistry load() {
    return new PluginRegistry(
        ServiceLoader.load(SmDriver.class, PluginRegistry.class.getClassLoader()));
  }

  /** A registry of the given drivers (tests, embedding). */
  public static PluginRegistry of(List<SmDriver> drivers) {
    return new PluginRegistry(drivers);
  }

  /**
   * The driver for an SR type.
   *
   * @throws SmException {@link SmError#UNKNOWN_DRIVER} naming the type and the known ones
   */
  public SmDriver driver(String type) throws SmException {
    SmDriver d = drivers.get(type);
    if (d == null) {
      throw new SmException(
          SmError.UNKNOWN_DRIVER,
          "No SM driver for SR type '" + type + "'; known types: " + String.join(", ", types()));
    }
    return d;
  }

  /** The known SR types, sorted. */
  public List<String> types() {
    return List.copyOf(drivers.keySet());
  }
}
