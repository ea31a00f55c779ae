package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.xensource.xenapi.DataSource;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VBD;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xsm.server.stats.Sampler;

/**
 * Statistics: {@code /rrd_updates} in xapi's xport format (XML and JSON) with the host's and a
 * running VM's data sources, the VM's disk I/O counted from what qemu-io (a real NBD client) writes
 * through the VBD's export, and the {@code *.get_data_sources}/{@code query_data_source} messages.
 */
@QuarkusTest
class StatsTest extends SdkTest {
  private static final long MIB = 1024 * 1024;

  @Inject Sampler sampler;

  /** One {@code /rrd_updates} answer: legend and rows (newest first) of values. */
  record Xport(long step, List<String> legend, List<Long> times, List<List<Double>> rows) {
    /** The values of one column, newest first. */
    List<Double> column(String entry) {
      int i = legend.indexOf(entry);
      assertThat(i).as("legend entry %s in %s", entry, legend).isNotNegative();
      List<Double> out = new ArrayList<>();
      rows.forEach(r -> out.add(r.get(i)));
      return out;
    }
  }

  private String get(String query) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(url.toURI().resolve("/rrd_updates?" + query)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private Xport xml(String query) throws Exception {
    Document d =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(new ByteArrayInputStream(get(query).getBytes(StandardCharsets.UTF_8)));
    Element meta = (Element) d.getElementsByTagName("meta").item(0);
    long step = Long.parseLong(meta.getElementsByTagName("step").item(0).getTextContent());
    List<String> legend = new ArrayList<>();
    NodeList entries = meta.getElementsByTagName("entry");
    for (int i = 0; i < entries.getLength(); i++) {
      legend.add(entries.item(i).getTextContent());
    }
    assertThat(Long.parseLong(meta.getElementsByTagName("columns").item(0).getTextContent()))
        .isEqualTo(legend.size());
    List<Long> times = new ArrayList<>();
    List<List<Double>> rows = new ArrayList<>();
    NodeList rowNodes = d.getElementsByTagName("row");
    for (int i = 0; i < rowNodes.getLength(); i++) {
      Element row = (Element) rowNodes.item(i);
      times.add(Long.parseLong(row.getElementsByTagName("t").item(0).getTextContent()));
      NodeList vs = row.getElementsByTagName("v");
      List<Double> values = new ArrayList<>();
      for (int j = 0; j < vs.getLength(); j++) {
        values.add(Double.parseDouble(vs.item(j).getTextContent()));
      }
      assertThat(values).hasSize(legend.size());
      rows.add(values);
    }
    assertThat(Long.parseLong(meta.getElementsByTagName("rows").item(0).getTextContent()))
        .isEqualTo(rows.size());
    return new Xport(step, legend, times, rows);
  }

  @Test
  void hostDataSourcesInXmlAndJson() throws Exception {
    sampler.sampleNow();
    sampler.sampleNow();
    Host host = Host.getAll(c).iterator().next();
    String uuid = host.getUuid(c);
    long start = System.currentTimeMillis() / 1000 - 60;
    String s = c.getSessionReference();
    Xport x = xml("start=" + start + "&cf=AVERAGE&interval=5&host=true&session_id=" + s);
    assertThat(x.step()).isEqualTo(5);
    assertThat(x.times()).isNotEmpty().isSortedAccordingTo((a, b) -> Long.compare(b, a));
    assertThat(x.times()).allSatisfy(t -> assertThat(t).isGreaterThan(start));
    double total = x.column("AVERAGE:host:" + uuid + ":memory_total_kib").get(0);
    double free = x.column("AVERAGE:host:" + uuid + ":memory_free_kib").get(0);
    assertThat(total).isPositive();
    assertThat(free).isPositive().isLessThanOrEqualTo(total);
    assertThat(x.column("AVERAGE:host:" + uuid + ":cpu0").get(0)).isBetween(0.0, 1.0);
    assertThat(x.column("AVERAGE:host:" + uuid + ":cpu_avg").get(0)).isBetween(0.0, 1.0);
    assertThat(x.column("AVERAGE:host:" + uuid + ":loadavg").get(0)).isNotNegative();
    String sr8 = defaultSr().getUuid(c).substring(0, 8);
    assertThat(x.legend()).contains("AVERAGE:host:" + uuid + ":io_throughput_read_" + sr8);

    JsonNode j =
        new ObjectMapper()
            .readTree(get("start=" + start + "&interval=5&host=true&json=true&session_id=" + s));
    assertThat(j.get("meta").get("step").asLong()).isEqualTo(5);
    List<String> legend = new ArrayList<>();
    j.get("meta").get("legend").forEach(n -> legend.add(n.asText()));
    assertThat(legend).contains("AVERAGE:host:" + uuid + ":memory_total_kib");
    JsonNode newest = j.get("data").get(0);
    assertThat(newest.get("values")).hasSize(legend.size());
    int i = legend.indexOf("AVERAGE:host:" + uuid + ":memory_total_kib");
    assertThat(Double.parseDouble(newest.get("values").get(i).asText())).isEqualTo(total);

    // A minute step over the last hour: one row per minute.
    Xport minutes = xml("start=" + (start - 3000) + "&interval=60&host=true&session_id=" + s);
    assertThat(minutes.step()).isEqualTo(60);

    HttpResponse<String> anonymous =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(url.toURI().resolve("/rrd_updates?start=0&host=true"))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(anonymous.statusCode()).isEqualTo(401);

    Map<String, DataSource.Record> sources = new HashMap<>();
    for (DataSource.Record r : host.getDataSources(c)) {
      sources.put(r.nameLabel, r);
    }
    assertThat(sources.get("cpu0").units).isEqualTo("(fraction)");
    assertThat(sources.get("memory_total_kib").units).isEqualTo("KiB");
    assertThat(host.queryDataSource(c, "memory_total_kib")).isPositive();
    assertThatThrownBy(() -> host.queryDataSource(c, "no_such_source"))
        .isInstanceOf(Types.InternalError.class);
  }

  /** The 5-second rows of one VM since {@code start}. */
  private Xport vmRows(long start, String vmUuid) throws Exception {
    return xml(
        "start="
            + start
            + "&interval=5&vm_uuid="
            + vmUuid
            + "&session_id="
            + c.getSessionReference());
  }

  @Test
  void vmDataSourcesCountDiskIoThroughNbd() throws Exception {
    VM vm = newVm("stats-vm", 2, 256 * MIB);
    VDI disk = newVdi("stats-disk", 8 * MIB);
    attachDisk(vm, disk, "0");
    try {
      vm.start(c, false, false);
      long start = System.currentTimeMillis() / 1000 - 1;
      sampler.sampleNow();
      var nbd = disk.getNbdInfo(c).iterator().next();
      // Over TLS, trusting the certificate get_nbd_info gave (as xapi, NBD requires TLS).
      List<String> cmd =
          new java.util.ArrayList<>(List.of("/usr/bin/qemu-io", "-c", "write -P 7 0 1M"));
      cmd.addAll(NbdXenApiTest.target(nbd).qemuArgs());
      ChildProcess.Result w = ChildProcess.run(cmd, null, 60);
      assertThat(w.exit()).as(w.output()).isZero();
      sampler.sampleNow();
      String vmUuid = vm.getUuid(c);
      Xport x = vmRows(start, vmUuid);
      assertThat(x.legend())
          .contains(
              "AVERAGE:vm:" + vmUuid + ":cpu0",
              "AVERAGE:vm:" + vmUuid + ":cpu1",
              "AVERAGE:vm:" + vmUuid + ":memory",
              "AVERAGE:vm:" + vmUuid + ":memory_internal_free",
              "AVERAGE:vm:" + vmUuid + ":vbd_xvda_read");
      assertThat(x.legend()).allSatisfy(e -> assertThat(e).contains(":vm:" + vmUuid + ":"));
      assertThat(x.column("AVERAGE:vm:" + vmUuid + ":memory").get(0)).isEqualTo(256.0 * MIB);
      // The megabyte qemu-io wrote is in the rows since the start, as bytes per second.
      assertThat(x.column("AVERAGE:vm:" + vmUuid + ":vbd_xvda_write"))
          .anySatisfy(v -> assertThat(v).isPositive());
      Set<DataSource.Record> sources = vm.getDataSources(c);
      assertThat(sources).extracting(s -> s.nameLabel).contains("vbd_xvda_write", "memory");
      assertThat(vm.queryDataSource(c, "memory")).isEqualTo(256.0 * MIB);
      // Forgotten: the history with the write is gone (later samples, if any, saw no I/O).
      vm.forgetDataSourceArchives(c, "vbd_xvda_write");
      Xport after = vmRows(start, vmUuid);
      if (after.legend().contains("AVERAGE:vm:" + vmUuid + ":vbd_xvda_write")) {
        assertThat(after.column("AVERAGE:vm:" + vmUuid + ":vbd_xvda_write"))
            .noneSatisfy(v -> assertThat(v).isPositive());
      }
      assertThatThrownBy(() -> vm.forgetDataSourceArchives(c, "no_such_source"))
          .isInstanceOf(Types.XenAPIException.class);
      // As in xapi, a VM that no longer runs is not among the VMs of /rrd_updates.
      assertThat(
              xml("start=" + start + "&interval=5&session_id=" + c.getSessionReference()).legend())
          .anySatisfy(e -> assertThat(e).contains(":vm:" + vmUuid + ":"));
      vm.hardShutdown(c);
      assertThat(
              xml("start=" + start + "&interval=5&session_id=" + c.getSessionReference()).legend())
          .noneSatisfy(e -> assertThat(e).contains(":vm:" + vmUuid + ":"));
    } finally {
      if (vm.getPowerState(c) != Types.VmPowerState.HALTED) {
        vm.hardShutdown(c);
      }
      for (VBD v : vm.getVBDs(c)) {
        v.destroy(c);
      }
      vm.destroy(c);
      disk.destroy(c);
    }
  }
}
