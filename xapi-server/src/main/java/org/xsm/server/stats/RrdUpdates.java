package org.xsm.server.stats;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The answer of {@code /rrd_updates}: xapi's "xport" of the rows after {@code start} of one archive
 * step, one column per data source, as XML ({@code
 * <xport><meta>...<legend><entry>AVERAGE:vm:<uuid>:
 * cpu0</entry>...</legend></meta><data><row><t>..</t><v>..</v>...</row></data></xport>}) or, with
 * {@code json=true}, as JSON ({@code {"meta":{start,step,end,rows,columns,legend},"data":[{t,
 * values}]}}, values as strings so that NaN is valid JSON, as xapi writes them since 23.31). Rows
 * go from the newest to the oldest, as xapi sends them.
 */
final class RrdUpdates {
  /** One column: the object's kind and uuid, and one of its data sources. */
  record Column(String kind, String uuid, String name, Archive archive) {}

  final Archive.Step step;
  final Archive.Cf cf;
  final List<Column> columns;
  final List<Long> times; // newest first

  private RrdUpdates(Archive.Step step, Archive.Cf cf, List<Column> columns, List<Long> times) {
    this.step = step;
    this.cf = cf;
    this.columns = columns;
    this.times = times;
  }

  /**
   * The step xapi would use: the finest whose archive reaches back to {@code start} and is at least
   * {@code interval} (0: any).
   */
  static Archive.Step chooseStep(long start, long now, long interval) {
    for (Archive.Step s : Archive.STEPS) {
      if (s.stepSeconds() >= interval && now - start <= s.stepSeconds() * s.rows()) {
        return s;
      }
    }
    return Archive.STEPS.get(Archive.STEPS.size() - 1);
  }

  /** The rows after {@code start} up to the newest sample {@code last}, at most the archive's. */
  static RrdUpdates of(
      Archive.Step step, Archive.Cf cf, long start, long last, List<Column> columns) {
    List<Long> times = new ArrayList<>();
    long newest = Archive.bucket(last, step) * step.stepSeconds();
    for (long t = newest; t > start && times.size() < step.rows(); t -= step.stepSeconds()) {
      times.add(t);
    }
    return new RrdUpdates(step, cf, columns, times);
  }

  /** Columns for the archives of one object, sorted by data source name. */
  static List<Column> columns(String kind, String uuid, Map<String, Archive> archives) {
    List<Column> out = new ArrayList<>();
    new TreeMap<>(archives).forEach((name, a) -> out.add(new Column(kind, uuid, name, a)));
    return out;
  }

  private String legend(Column c) {
    return cf.name() + ":" + c.kind() + ":" + c.uuid() + ":" + c.name();
  }

  private long start() {
    return times.isEmpty() ? 0 : times.get(times.size() - 1);
  }

  private long end() {
    return times.isEmpty() ? 0 : times.get(0);
  }

  static String number(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "Infinity" : "-Infinity";
    }
    return Double.toString(v);
  }

  String xml() {
    StringBuilder b = new StringBuilder(256 + 64 * columns.size() * (1 + times.size()));
    b.append("<xport><meta><start>")
        .append(start())
        .append("</start><step>")
        .append(step.stepSeconds())
        .append("</step><end>")
        .append(end())
        .append("</end><rows>")
        .append(times.size())
        .append("</rows><columns>")
        .append(columns.size())
        .append("</columns><legend>");
    for (Column c : columns) {
      b.append("<entry>").append(legend(c)).append("</entry>");
    }
    b.append("</legend></meta><data>");
    for (long t : times) {
      b.append("<row><t>").append(t).append("</t>");
      for (Column c : columns) {
        b.append("<v>").append(number(c.archive().value(step, t, cf))).append("</v>");
      }
      b.append("</row>");
    }
    return b.append("</data></xport>").toString();
  }

  String json() {
    StringBuilder b = new StringBuilder(256 + 64 * columns.size() * (1 + times.size()));
    b.append("{\"meta\":{\"start\":")
        .append(start())
        .append(",\"step\":")
        .append(step.stepSeconds())
        .append(",\"end\":")
        .append(end())
        .append(",\"rows\":")
        .append(times.size())
        .append(",\"columns\":")
        .append(columns.size())
        .append(",\"legend\":[");
    for (int i = 0; i < columns.size(); i++) {
      b.append(i == 0 ? "" : ",").append('"').append(legend(columns.get(i))).append('"');
    }
    b.append("]},\"data\":[");
    for (int r = 0; r < times.size(); r++) {
      long t = times.get(r);
      b.append(r == 0 ? "" : ",").append("{\"t\":").append(t).append(",\"values\":[");
      for (int i = 0; i < columns.size(); i++) {
        b.append(i == 0 ? "" : ",")
            .append('"')
            .append(number(columns.get(i).archive().value(step, t, cf)))
            .append('"');
      }
      b.append("]}");
    }
    return b.append("]}").toString();
  }
}
