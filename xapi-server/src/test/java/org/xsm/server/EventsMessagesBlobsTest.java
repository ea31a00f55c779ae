package org.xsm.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.xensource.xenapi.Blob;
import com.xensource.xenapi.Event;
import com.xensource.xenapi.EventBatch;
import com.xensource.xenapi.Host;
import com.xensource.xenapi.Message;
import com.xensource.xenapi.Pool;
import com.xensource.xenapi.SR;
import com.xensource.xenapi.Types;
import com.xensource.xenapi.VDI;
import com.xensource.xenapi.VM;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The event interfaces, messages, blobs and the host's clock, through the Java SDK (and plain HTTP
 * for {@code /blob}), checked against what xapi answers.
 */
@QuarkusTest
class EventsMessagesBlobsTest extends SdkTest {
  private static final long MIB = 1024 * 1024;

  @Test
  void emptyTokenGivesEveryCurrentObjectThenOnlyChanges() throws Exception {
    VDI mine = newVdi("events-everything", MIB);
    try {
      Set<String> classes = Set.of("vdi", "SR", "pool", "host", "vm");
      EventBatch all = Event.from(c, new HashSet<>(classes), "", 30.0);
      Map<String, String> seen = new HashMap<>();
      for (Event.Record e : all.events) {
        assertThat(e.operation).as("event of %s", e.ref).isEqualTo(Types.EventOperation.ADD);
        seen.put(e.ref, e.clazz);
        assertThat(e.snapshot).as("snapshot of %s", e.ref).isNotNull();
      }
      Set<String> expected = new HashSet<>();
      VDI.getAll(c).forEach(v -> expected.add(v.toWireString()));
      SR.getAll(c).forEach(v -> expected.add(v.toWireString()));
      Pool.getAll(c).forEach(v -> expected.add(v.toWireString()));
      Host.getAll(c).forEach(v -> expected.add(v.toWireString()));
      VM.getAll(c).forEach(v -> expected.add(v.toWireString()));
      assertThat(seen.keySet()).containsExactlyInAnyOrderElementsOf(expected);
      assertThat(seen).containsEntry(mine.toWireString(), "vdi");
      assertThat(((Map<?, ?>) all.validRefCounts).get("vdi"))
          .hasToString(String.valueOf(VDI.getAll(c).size()));
      Event.Record pool =
          all.events.stream().filter(e -> e.clazz.equals("pool")).findFirst().orElseThrow();
      // The SDK turns each snapshot into the class's record.
      assertThat(((Pool.Record) pool.snapshot).nameLabel)
          .isEqualTo(Pool.getAll(c).iterator().next().getNameLabel(c));

      // From the token on: only what changed, not the whole set again.
      mine.setNameLabel(c, "events-renamed");
      EventBatch delta = Event.from(c, new HashSet<>(classes), all.token, 30.0);
      assertThat(delta.events).isNotEmpty();
      assertThat(delta.events)
          .allSatisfy(e -> assertThat(e.operation).isNotEqualTo(Types.EventOperation.ADD));
      assertThat(delta.events)
          .anySatisfy(
              e -> {
                assertThat(e.ref).isEqualTo(mine.toWireString());
                assertThat(((VDI.Record) e.snapshot).nameLabel).isEqualTo("events-renamed");
              });
      assertThat(delta.token).isGreaterThan(all.token);
    } finally {
      mine.destroy(c);
    }
  }

  @Test
  void starGivesEveryClassWithItsCount() throws Exception {
    EventBatch all = Event.from(c, new HashSet<>(Set.of("*")), "", 30.0);
    Map<String, Long> perClass = new HashMap<>();
    for (Event.Record e : all.events) {
      perClass.merge(e.clazz, 1L, Long::sum);
    }
    for (String cls : List.of("pool", "host", "sr", "pbd", "sm", "network", "pif", "vm")) {
      assertThat(perClass.get(cls)).as("objects of %s", cls).isNotNull();
    }
    // As in xapi, classes without events: a session's reference is its credential.
    assertThat(perClass).doesNotContainKeys("session", "user", "secret");
    assertThat(Event.from(c, new HashSet<>(Set.of("session")), "", 1.0).events).isEmpty();
    // Objects come and go (sessions, tasks) between the list and the counts; stable ones agree.
    for (String cls : List.of("pool", "host", "sr", "sm", "network")) {
      assertThat(((Map<?, ?>) all.validRefCounts).get(cls))
          .as("count of %s", cls)
          .hasToString(String.valueOf(perClass.get(cls)));
    }
  }

  @Test
  void tokensTheLogCannotAnswerAreEventsLost() throws Exception {
    // A token of an earlier run of the server (ids restart from the clock) and one not yet issued.
    String ancient = String.format("%020d,%020d", 42, 0);
    assertThatThrownBy(() -> Event.from(c, new HashSet<>(Set.of("vdi")), ancient, 1.0))
        .isInstanceOf(Types.EventsLost.class);
    long now = Event.getCurrentId(c);
    String future = String.format("%020d,%020d", now + 1_000_000, 0);
    assertThatThrownBy(() -> Event.from(c, new HashSet<>(Set.of("vdi")), future, 1.0))
        .isInstanceOf(Types.EventsLost.class);
    assertThatThrownBy(() -> Event.from(c, new HashSet<>(Set.of("vdi")), "garbage", 1.0))
        .isInstanceOfSatisfying(
            Types.EventFromTokenParseFailure.class, e -> assertThat(e.token).isEqualTo("garbage"));
  }

  @Test
  void aWaitingEventFromEndsWithSessionInvalidWhenItsSessionLogsOut() throws Exception {
    com.xensource.xenapi.Connection other = new com.xensource.xenapi.Connection(url);
    com.xensource.xenapi.Session.loginWithPassword(other, "root", "xsm-test-root", "2.21");
    String token = Event.from(other, new HashSet<>(Set.of("vdi")), "", 1.0).token;
    CompletableFuture<Object> waiting =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return Event.from(other, new HashSet<>(Set.of("vdi")), token, 60.0);
              } catch (Exception e) {
                return e;
              }
            });
    // Logged out while the call waits (for 60 s, were it not woken).
    com.xensource.xenapi.Session.logout(other);
    assertThat(waiting.get(20, TimeUnit.SECONDS)).isInstanceOf(Types.SessionInvalid.class);
  }

  @Test
  void registerNextUnregister() throws Exception {
    assertThatThrownBy(() -> Event.next(c)).isInstanceOf(Types.SessionNotRegistered.class);
    Event.register(c, new HashSet<>(Set.of("vdi")));
    long before = Event.getCurrentId(c);
    VDI vdi = newVdi("events-next", MIB);
    try {
      Set<Event.Record> got = new HashSet<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (got.stream().noneMatch(e -> e.ref.equals(vdi.toWireString()))
          && System.nanoTime() < deadline) {
        got.addAll(Event.next(c));
      }
      assertThat(got)
          .anySatisfy(
              e -> {
                assertThat(e.ref).isEqualTo(vdi.toWireString());
                assertThat(e.clazz).isEqualTo("vdi");
                assertThat(e.operation).isEqualTo(Types.EventOperation.ADD);
                assertThat(e.objUuid).isEqualTo(vdi.getUuid(c));
              });
      assertThat(got).allSatisfy(e -> assertThat(e.clazz).isEqualTo("vdi"));
      assertThat(Event.getCurrentId(c)).isGreaterThan(before);

      // After unregister, a change of that class does not end a next; one of another class does.
      Event.unregister(c, new HashSet<>(Set.of("vdi")));
      Event.register(c, new HashSet<>(Set.of("pool")));
      CompletableFuture<Set<Event.Record>> waiting =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return Event.next(c);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      vdi.setNameLabel(c, "events-next-renamed");
      Pool pool = Pool.getAll(c).iterator().next();
      Event.inject(c, "pool", pool.toWireString());
      Set<Event.Record> poolEvents = waiting.get(20, TimeUnit.SECONDS);
      assertThat(poolEvents).isNotEmpty().allSatisfy(e -> assertThat(e.clazz).isEqualTo("pool"));
    } finally {
      vdi.destroy(c);
    }
  }

  @Test
  void messagesAsXapi() throws Exception {
    Pool pool = Pool.getAll(c).iterator().next();
    String poolUuid = pool.getUuid(c);
    Date before = new Date(System.currentTimeMillis() - 2000);
    String token = Event.from(c, new HashSet<>(Set.of("message")), "", 1.0).token;
    Message m = Message.create(c, "XSM_TEST_ALERT", 3L, Types.Cls.POOL, poolUuid, "the body");
    try {
      Message.Record r = m.getRecord(c);
      assertThat(r.name).isEqualTo("XSM_TEST_ALERT");
      assertThat(r.priority).isEqualTo(3L);
      assertThat(r.cls).isEqualTo(Types.Cls.POOL);
      assertThat(r.objUuid).isEqualTo(poolUuid);
      assertThat(r.body).isEqualTo("the body");
      assertThat(Message.getByUuid(c, r.uuid)).isEqualTo(m);
      assertThat(Message.getAllRecords(c)).containsKey(m);
      assertThat(Message.get(c, Types.Cls.POOL, poolUuid, before)).containsOnlyKeys(m);
      assertThatThrownBy(() -> Message.get(c, Types.Cls.VM, poolUuid, before))
          .isInstanceOf(Types.UuidInvalid.class);
      assertThat(Message.getSince(c, before)).containsKey(m);
      assertThat(Message.getSince(c, new Date(System.currentTimeMillis() + 60_000))).isEmpty();
      assertThat(Message.getAllRecordsWhere(c, "field \"name\" = \"XSM_TEST_ALERT\""))
          .containsOnlyKeys(m);
      assertThat(Message.getAllRecordsWhere(c, "name = \"XSM_TEST_ALERT\" and priority = \"4\""))
          .isEmpty();
      assertThat(Message.getAllRecordsWhere(c, "true")).containsKey(m);
      assertThatThrownBy(() -> Message.getAllRecordsWhere(c, "name = "))
          .isInstanceOf(Types.InvalidValue.class);
      EventBatch added = Event.from(c, new HashSet<>(Set.of("message")), token, 10.0);
      assertThat(added.events)
          .anySatisfy(
              e -> {
                assertThat(e.ref).isEqualTo(m.toWireString());
                assertThat(e.operation).isEqualTo(Types.EventOperation.ADD);
              });
      String missing = java.util.UUID.randomUUID().toString();
      assertThatThrownBy(() -> Message.create(c, "X", 1L, Types.Cls.VM, missing, ""))
          .isInstanceOfSatisfying(
              Types.UuidInvalid.class,
              e -> {
                assertThat(e.type).isEqualTo("VM");
                assertThat(e.uuid).isEqualTo(missing);
              });
    } finally {
      m.destroy(c);
    }
    assertThatThrownBy(() -> m.getRecord(c)).isInstanceOf(Types.HandleInvalid.class);
  }

  @Test
  void blobsThroughTheHttpHandler() throws Exception {
    Pool pool = Pool.getAll(c).iterator().next();
    Blob blob = pool.createNewBlob(c, "xsm-test-blob", "text/plain", false);
    HttpClient http = HttpClient.newHttpClient();
    String session = c.getSessionReference();
    URI at = url.toURI().resolve("/blob?ref=" + blob.toWireString() + "&session_id=" + session);
    try {
      assertThat(pool.getBlobs(c)).containsEntry("xsm-test-blob", blob);
      byte[] body = "hello, blob".getBytes(StandardCharsets.UTF_8);
      HttpResponse<String> put =
          http.send(
              HttpRequest.newBuilder(at).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
      HttpResponse<byte[]> get =
          http.send(
              HttpRequest.newBuilder(at).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(get.statusCode()).isEqualTo(200);
      assertThat(get.body()).isEqualTo(body);
      assertThat(get.headers().firstValue("Content-Type")).hasValue("text/plain");
      Blob.Record r = blob.getRecord(c);
      assertThat(r.size).isEqualTo(body.length);
      assertThat(r.mimeType).isEqualTo("text/plain");
      assertThat(r.nameLabel).isEmpty(); // xapi names a blob only in its owner's map
      assertThat(r.lastUpdated).isAfter(new Date(0));
      assertThatThrownBy(() -> pool.createNewBlob(c, "xsm-test-blob", "", false))
          .isInstanceOf(Types.MapDuplicateKey.class);
      HttpResponse<byte[]> byUuid =
          http.send(
              HttpRequest.newBuilder(
                      url.toURI().resolve("/blob?uuid=" + r.uuid + "&session_id=" + session))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertThat(byUuid.body()).isEqualTo(body);

      URI anonymous = url.toURI().resolve("/blob?ref=" + blob.toWireString());
      assertThat(
              http.send(
                      HttpRequest.newBuilder(anonymous).GET().build(),
                      HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(401);
    } finally {
      blob.destroy(c);
    }
    assertThat(pool.getBlobs(c)).doesNotContainKey("xsm-test-blob");
    assertThatThrownBy(() -> blob.getRecord(c)).isInstanceOf(Types.HandleInvalid.class);
    assertThat(
            http.send(
                    HttpRequest.newBuilder(at).GET().build(), HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(404);

    Blob plain = Blob.create(c, "");
    try {
      assertThat(plain.getMimeType(c)).isEqualTo("application/octet-stream");
      assertThat(plain.getPublic(c)).isFalse();
      plain.setPublic(c, true);
      plain.setNameLabel(c, "readable by anyone");
      // A public blob is read without a session.
      HttpResponse<String> open =
          http.send(
              HttpRequest.newBuilder(url.toURI().resolve("/blob?ref=" + plain.toWireString()))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(open.statusCode()).isEqualTo(200);
      assertThat(open.body()).isEmpty();
    } finally {
      plain.destroy(c);
    }
  }

  @Test
  void hostClock() throws Exception {
    Host host = Host.getAll(c).iterator().next();
    long now = System.currentTimeMillis();
    Date server = host.getServertime(c);
    assertThat(Math.abs(server.getTime() - now)).isLessThan(5_000);
    assertThat(host.getServerLocaltime(c)).isNotNull();
    HttpResponse<String> listed =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(url.toURI().resolve("/jsonrpc"))
                    .header("Content-Type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"jsonrpc\":\"2.0\",\"method\":\"system.listMethods\",\"params\":[],\"id\":1}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    List<String> methods = new ArrayList<>();
    new ObjectMapper().readTree(listed.body()).get("result").forEach(n -> methods.add(n.asText()));
    assertThat(methods)
        .contains(
            "event.next",
            "event.register",
            "event.get_current_id",
            "message.get_since",
            "blob.create",
            "VM.create_new_blob",
            "host.get_servertime",
            "host.get_server_localtime")
        .doesNotContain(
            "session.get_all_records",
            "session.get_all",
            "user.get_all_records",
            "pool.get_by_name_label",
            "message.get_name",
            "message.get_body");
  }
}
