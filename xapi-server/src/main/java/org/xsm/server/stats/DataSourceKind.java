package org.xsm.server.stats;

/** What a data source measures, from its name: description, units and upper bound. */
record DataSourceKind(String description, String units, double max) {
  private static final double NO_BOUND = Double.POSITIVE_INFINITY;

  static DataSourceKind of(String name) {
    if (name.equals("cpu_avg")) {
      return new DataSourceKind("Average physical CPU usage", "(fraction)", 1);
    }
    if (name.matches("cpu\\d+")) {
      return new DataSourceKind("CPU " + name.substring(3) + " usage", "(fraction)", 1);
    }
    if (name.equals("loadavg")) {
      return new DataSourceKind("Domain0 load average", "(fraction)", NO_BOUND);
    }
    if (name.endsWith("_kib") || name.equals("memory_internal_free")) {
      return new DataSourceKind(name.replace('_', ' '), "KiB", NO_BOUND);
    }
    if (name.startsWith("memory")) {
      return new DataSourceKind(name.replace('_', ' '), "B", NO_BOUND);
    }
    if (name.startsWith("io_throughput")) {
      return new DataSourceKind(name.replace('_', ' '), "MiB/s", NO_BOUND);
    }
    return new DataSourceKind(name.replace('_', ' '), "B/s", NO_BOUND);
  }
}
