#!/usr/bin/python3
"""Drives an xsm server with the XenAPI.py client shipped by Debian's python3-os-xenapi.

usage: /usr/bin/python3 xenapi_py_test.py URL USER PASSWORD

Uses the client the way scripts written against XenAPI.py do: Session(url), xenapi.login_with_password,
records, VDI.create with a full record, snapshot/clone, Async calls polled through task.*, an event.from
loop, XenAPI.Failure on errors, silent re-login on SESSION_INVALID, logout. Prints one line per check and
exits 1 on the first failure, naming it.
"""

import re
import sys
import threading
import time
import traceback
import uuid
import xmlrpc.client

try:
    from os_xenapi.client import XenAPI
except ImportError as e:
    print("FAIL: cannot import XenAPI.py from python3-os-xenapi (%s); install it: apt-get install python3-os-xenapi" % e)
    sys.exit(2)

REF_RE = re.compile(r"^OpaqueRef:[0-9a-f-]{36}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MIB = 1024 * 1024


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


def expect_failure(fn, details, what):
    """fn() must raise XenAPI.Failure whose details equal the list given (None entries match anything)."""
    try:
        result = fn()
    except XenAPI.Failure as f:
        got = list(f.details)
        ok = len(got) == len(details) and all(d is None or d == g for d, g in zip(details, got))
        check(ok, "%s: expected Failure %r, got %r" % (what, details, got))
        check(all(isinstance(g, str) for g in got), "%s: ErrorDescription elements must be strings: %r" % (what, got))
        return got
    raise CheckFailed("%s: expected Failure %r, call returned %r" % (what, details, result))


def event_from(x, classes, token, timeout):
    # 'from' is a Python keyword: real callers go through getattr.
    return getattr(x.event, "from")(classes, token, timeout)


def parse_task_result(result):
    """task.result is an XML-RPC <value> element; parse it as xmlrpc.client would parse a response."""
    if result == "":
        return ""
    doc = "<?xml version='1.0'?><methodResponse><params><param>%s</param></params></methodResponse>" % result
    (value,), _ = xmlrpc.client.loads(doc)
    return value


def wait_task(x, task, timeout=30.0):
    deadline = time.time() + timeout
    while True:
        status = x.task.get_status(task)
        check(status in ("pending", "success", "failure", "cancelling", "cancelled"), "task status %r" % status)
        if status not in ("pending", "cancelling"):
            return status
        check(time.time() < deadline, "task %s still %s after %ss" % (task, status, timeout))
        time.sleep(0.1)


def vdi_record(sr, name, size):
    # Everything a VDI constructor record holds, as XenAPI.py users write it (ints as strings).
    return {
        "SR": sr,
        "name_label": name,
        "name_description": "created by xenapi_py_test.py",
        "virtual_size": str(size),
        "type": "user",
        "sharable": False,
        "read_only": False,
        "other_config": {"xsm-test": "xenapi.py"},
        "xenstore_data": {},
        "sm_config": {},
        "tags": ["xenapi-py"],
    }


class Run:
    def __init__(self, url, user, password):
        self.url = url
        self.user = user
        self.password = password
        self.cleanup = []  # (what, fn)

    def step(self, name, fn):
        fn()
        print("ok   %s" % name, flush=True)

    # ------------------------------------------------------------------ login and records
    def login(self):
        s = XenAPI.Session(self.url)
        s.xenapi.login_with_password(self.user, self.password, "2.21", "xenapi_py_test")
        check(REF_RE.match(s.handle or ""), "session handle %r is not an OpaqueRef" % s.handle)
        # XenAPI.py computes API_version from pool.get_master + host.get_API_version_major/minor at login.
        check(s.API_version == "2.21", "Session.API_version %r, expected '2.21'" % s.API_version)
        self.s = s
        self.x = s.xenapi

    def bad_login(self):
        s = XenAPI.Session(self.url)
        expect_failure(
            lambda: s.xenapi.login_with_password(self.user, self.password + "-wrong", "2.21", "xenapi_py_test"),
            ["SESSION_AUTHENTICATION_FAILED", self.user, None],
            "login with a wrong password",
        )
        check(s.handle is None, "failed login left a session handle %r" % s.handle)

    def records(self):
        x = self.x
        pools = x.pool.get_all()
        check(len(pools) == 1, "pool.get_all returned %r" % pools)
        pool = pools[0]
        precs = x.pool.get_all_records()
        check(list(precs.keys()) == [pool], "pool.get_all_records keys %r" % list(precs.keys()))
        prec = x.pool.get_record(pool)
        check(prec == precs[pool], "pool.get_record differs from pool.get_all_records entry")
        for f in ("uuid", "name_label", "master", "default_SR", "other_config"):
            check(f in prec, "pool record lacks %s" % f)
        check(UUID_RE.match(prec["uuid"]), "pool uuid %r" % prec["uuid"])
        check(x.pool.get_by_uuid(prec["uuid"]) == pool, "pool.get_by_uuid")
        check(isinstance(prec["other_config"], dict), "pool.other_config is %r" % type(prec["other_config"]))

        host = prec["master"]
        check(x.pool.get_master(pool) == host, "pool.get_master")
        hosts = x.host.get_all()
        check(host in hosts, "pool master %s not in host.get_all %r" % (host, hosts))
        hrec = x.host.get_record(host)
        # int fields travel as strings of digits
        check(hrec["API_version_major"] == "2", "host.API_version_major %r" % hrec["API_version_major"])
        check(hrec["API_version_minor"] == "21", "host.API_version_minor %r" % hrec["API_version_minor"])
        check(isinstance(hrec["enabled"], bool), "host.enabled is %r" % type(hrec["enabled"]))
        check(x.session.get_this_host(self.s.handle) == host, "session.get_this_host")
        by_name = x.host.get_by_name_label(hrec["name_label"])
        check(host in by_name, "host.get_by_name_label(%r) = %r" % (hrec["name_label"], by_name))

        sr = prec["default_SR"]
        check(REF_RE.match(sr), "pool.default_SR %r" % sr)
        srs = x.SR.get_all_records()
        check(sr in srs, "default SR missing from SR.get_all_records")
        srec = x.SR.get_record(sr)
        check(srec["type"] == "ext", "default SR type %r" % srec["type"])
        for f in ("physical_size", "physical_utilisation", "virtual_allocation"):
            check(isinstance(srec[f], str) and srec[f].isdigit(), "SR.%s %r is not an int64 string" % (f, srec[f]))
        check(int(srec["physical_size"]) > 0, "SR.physical_size %r" % srec["physical_size"])
        check(isinstance(srec["PBDs"], list) and len(srec["PBDs"]) >= 1, "SR.PBDs %r" % srec["PBDs"])
        pbd = x.PBD.get_record(srec["PBDs"][0])
        check(pbd["SR"] == sr and pbd["host"] == host, "PBD %r does not link SR and host" % pbd)
        check(pbd["currently_attached"] is True, "PBD of the default SR not attached")
        self.pool, self.host, self.sr = pool, host, sr

    # ------------------------------------------------------------------ VDIs
    def vdi_create(self):
        x = self.x
        name = "xenapi-py-" + uuid.uuid4().hex[:8]
        vdi = x.VDI.create(vdi_record(self.sr, name, 8 * MIB))
        self.cleanup.append(("VDI.destroy base", lambda: x.VDI.destroy(vdi)))
        check(REF_RE.match(vdi), "VDI.create returned %r" % vdi)
        rec = x.VDI.get_record(vdi)
        check(rec["name_label"] == name, "VDI name_label %r" % rec["name_label"])
        check(rec["SR"] == self.sr, "VDI.SR %r" % rec["SR"])
        check(int(rec["virtual_size"]) >= 8 * MIB, "VDI.virtual_size %r < requested" % rec["virtual_size"])
        check(isinstance(rec["virtual_size"], str), "VDI.virtual_size not sent as a string")
        check(rec["other_config"].get("xsm-test") == "xenapi.py", "VDI.other_config %r" % rec["other_config"])
        check(rec["tags"] == ["xenapi-py"], "VDI.tags %r" % rec["tags"])
        check(rec["is_a_snapshot"] is False and rec["read_only"] is False, "VDI booleans %r" % rec)
        check(rec["snapshot_of"] == "OpaqueRef:NULL", "VDI.snapshot_of %r" % rec["snapshot_of"])
        check(isinstance(rec["snapshot_time"], xmlrpc.client.DateTime), "VDI.snapshot_time is %r" % type(rec["snapshot_time"]))
        check(x.VDI.get_by_uuid(rec["uuid"]) == vdi, "VDI.get_by_uuid")
        check(vdi in x.VDI.get_by_name_label(name), "VDI.get_by_name_label")
        check(vdi in x.SR.get_VDIs(self.sr), "new VDI not in SR.VDIs")
        x.VDI.set_name_description(vdi, "changed")
        check(x.VDI.get_name_description(vdi) == "changed", "VDI.set_name_description did not stick")
        x.VDI.add_to_other_config(vdi, "k", "v")
        expect_failure(lambda: x.VDI.add_to_other_config(vdi, "k", "w"),
                       ["MAP_DUPLICATE_KEY", "VDI", "other_config", vdi, "k"], "duplicate map key")
        x.VDI.remove_from_other_config(vdi, "k")
        check("k" not in x.VDI.get_other_config(vdi), "VDI.remove_from_other_config")
        self.vdi = vdi

    def vdi_snapshot_clone(self):
        x = self.x
        snap = x.VDI.snapshot(self.vdi, {})
        self.cleanup.append(("VDI.destroy snapshot", lambda: x.VDI.destroy(snap)))
        srec = x.VDI.get_record(snap)
        check(srec["is_a_snapshot"] is True, "snapshot is_a_snapshot %r" % srec["is_a_snapshot"])
        check(srec["snapshot_of"] == self.vdi, "snapshot_of %r, expected %s" % (srec["snapshot_of"], self.vdi))
        check(snap in x.VDI.get_snapshots(self.vdi), "snapshot missing from VDI.snapshots")
        check(srec["virtual_size"] == x.VDI.get_virtual_size(self.vdi), "snapshot virtual_size differs")
        clone = x.VDI.clone(self.vdi, {})
        self.cleanup.append(("VDI.destroy clone", lambda: x.VDI.destroy(clone)))
        crec = x.VDI.get_record(clone)
        check(clone not in (self.vdi, snap), "VDI.clone returned an existing ref")
        check(crec["is_a_snapshot"] is False, "clone is_a_snapshot %r" % crec["is_a_snapshot"])
        check(crec["SR"] == self.sr, "clone SR %r" % crec["SR"])
        check(crec["virtual_size"] == srec["virtual_size"], "clone virtual_size %r" % crec["virtual_size"])
        check(crec["uuid"] != srec["uuid"], "clone and snapshot share a uuid")

    def async_snapshot(self):
        x = self.x
        task = x.Async.VDI.snapshot(self.vdi, {})
        check(REF_RE.match(task), "Async.VDI.snapshot returned %r, not a task ref" % task)
        status = wait_task(x, task)
        trec = x.task.get_record(task)
        check(status == "success", "Async.VDI.snapshot task ended %s: %r" % (status, trec.get("error_info")))
        check(isinstance(trec["progress"], float) and trec["progress"] == 1.0, "task.progress %r" % trec["progress"])
        check(isinstance(trec["created"], xmlrpc.client.DateTime), "task.created is %r" % type(trec["created"]))
        check(isinstance(trec["finished"], xmlrpc.client.DateTime), "task.finished is %r" % type(trec["finished"]))
        check(trec["error_info"] == [], "task.error_info %r" % trec["error_info"])
        raw = x.task.get_result(task)
        check(raw == trec["result"], "task.get_result differs from the record")
        snap = parse_task_result(raw)
        check(REF_RE.match(snap or ""), "task result %r does not parse to a ref" % raw)
        self.cleanup.append(("VDI.destroy async snapshot", lambda: x.VDI.destroy(snap)))
        check(x.VDI.get_snapshot_of(snap) == self.vdi, "async snapshot's snapshot_of")
        x.task.destroy(task)
        expect_failure(lambda: x.task.get_record(task), ["HANDLE_INVALID", "task", task], "task after task.destroy")

    def async_failure(self):
        x = self.x
        bogus = "OpaqueRef:" + str(uuid.uuid4())
        task = x.Async.VDI.snapshot(bogus, {})
        status = wait_task(x, task)
        check(status == "failure", "Async.VDI.snapshot of a bad ref ended %s" % status)
        info = x.task.get_error_info(task)
        check(info == ["HANDLE_INVALID", "VDI", bogus], "task.error_info %r" % info)
        x.task.destroy(task)

    # ------------------------------------------------------------------ events
    def events(self):
        x = self.x
        # An empty token gives every object of the classes and a token to continue from.
        first = event_from(x, ["vdi"], "", 0.0)
        check(set(first.keys()) >= {"events", "token", "valid_ref_counts"}, "event.from keys %r" % list(first.keys()))
        check(isinstance(first["token"], str) and first["token"] != "", "event.from token %r" % first["token"])
        vdis_now = set(x.VDI.get_all())
        seen = {e["ref"] for e in first["events"] if e["class"] == "vdi"}
        check(self.vdi in seen, "event.from from the beginning lacks the test VDI")
        counts = first["valid_ref_counts"]
        check(int(counts.get("vdi", -1)) == len(vdis_now), "valid_ref_counts %r, VDIs %d" % (counts, len(vdis_now)))
        token = first["token"]

        # Nothing happens: the call must block about as long as asked, then return no events.
        t0 = time.time()
        quiet = event_from(x, ["vdi"], token, 1.0)
        waited = time.time() - t0
        check(quiet["events"] == [], "event.from with nothing new returned %r" % quiet["events"])
        check(0.8 <= waited < 10, "event.from(timeout=1.0) returned after %.2fs" % waited)
        token = quiet["token"]

        # A change made by another session wakes a blocked event.from.
        other = XenAPI.Session(self.url)
        other.xenapi.login_with_password(self.user, self.password, "2.21", "xenapi_py_test-2")
        created = {}
        label = "xenapi-py-event-" + uuid.uuid4().hex[:8]

        def make():
            time.sleep(0.5)
            created["ref"] = other.xenapi.VDI.create(vdi_record(self.sr, label, MIB))

        th = threading.Thread(target=make)
        th.start()
        events = []
        deadline = time.time() + 20
        t0 = time.time()
        # The event may well arrive before VDI.create has returned to the other thread: match the label.
        while time.time() < deadline and not any(
            e["operation"] == "add" and e.get("snapshot", {}).get("name_label") == label for e in events
        ):
            r = event_from(x, ["vdi"], token, 10.0)
            token = r["token"]
            events += r["events"]
        elapsed = time.time() - t0
        th.join()
        ref = created.get("ref")
        check(ref is not None, "the second session could not create a VDI")
        self.cleanup.append(("VDI.destroy event VDI", lambda: x.VDI.destroy(ref)))
        adds = [e for e in events if e["operation"] == "add" and e["ref"] == ref]
        check(adds, "no 'add' event for %s; got %r" % (ref, events))
        check(elapsed < 9, "the add event came only after the event.from timeout (%.1fs)" % elapsed)
        ev = adds[0]
        check(ev["class"] == "vdi", "event class %r, expected 'vdi'" % ev["class"])
        check(ev["snapshot"]["name_label"] == label, "event snapshot %r" % ev["snapshot"])
        check(ev["snapshot"]["SR"] == self.sr, "event snapshot SR %r" % ev["snapshot"].get("SR"))
        check(isinstance(ev.get("id"), str), "event id %r" % ev.get("id"))

        # A field change is a 'mod' with the new value, a destroy a 'del'.
        other.xenapi.VDI.set_name_label(ref, "xenapi-py-event-renamed")
        other.xenapi.VDI.destroy(ref)
        self.cleanup.pop()
        got = []
        deadline = time.time() + 20
        while time.time() < deadline and not any(e["operation"] == "del" and e["ref"] == ref for e in got):
            r = event_from(x, ["VDI"], token, 5.0)  # class names are case-insensitive
            token = r["token"]
            got += r["events"]
        mods = [e for e in got if e["operation"] == "mod" and e["ref"] == ref]
        check(any(e["snapshot"]["name_label"] == "xenapi-py-event-renamed" for e in mods),
              "no 'mod' event carrying the new name_label; got %r" % got)
        check(any(e["operation"] == "del" and e["ref"] == ref for e in got), "no 'del' event; got %r" % got)

        # event.inject gives a token; the injected object comes back as a 'mod'.
        tok = x.event.inject("pool", self.pool)
        check(isinstance(tok, str) and tok != "", "event.inject returned %r" % tok)
        r = event_from(x, ["pool"], token, 5.0)
        check(any(e["operation"] == "mod" and e["ref"] == self.pool for e in r["events"]),
              "no 'mod' event for the injected pool; got %r" % r["events"])
        other.xenapi.session.logout()

    # ------------------------------------------------------------------ errors and sessions
    def errors(self):
        x = self.x
        bogus = "OpaqueRef:" + str(uuid.uuid4())
        expect_failure(lambda: x.VDI.get_record(bogus), ["HANDLE_INVALID", "VDI", bogus], "VDI.get_record of a bad ref")
        expect_failure(lambda: x.VDI.destroy(bogus), ["HANDLE_INVALID", "VDI", bogus], "VDI.destroy of a bad ref")
        bad_uuid = str(uuid.uuid4())
        expect_failure(lambda: x.SR.get_by_uuid(bad_uuid), ["UUID_INVALID", "SR", bad_uuid], "SR.get_by_uuid unknown")
        expect_failure(lambda: x.VDI.frobnicate(self.vdi), ["MESSAGE_METHOD_UNKNOWN", "VDI.frobnicate"], "unknown message")
        # (xapi counts the parameters without the session: "1", "0"; only the code and name are checked here)
        expect_failure(lambda: x.VDI.get_record(), ["MESSAGE_PARAMETER_COUNT_MISMATCH", "VDI.get_record", None, None],
                       "VDI.get_record without its ref")
        # Failure is an Exception whose str() shows the details, as scripts print it.
        try:
            x.VDI.get_uuid(bogus)
        except XenAPI.Failure as f:
            check("HANDLE_INVALID" in str(f), "str(Failure) = %r" % str(f))

    def relogin(self):
        x = self.x
        old = self.s.handle
        # Another client logs this session out (as xapi does when it expires sessions).
        raw = xmlrpc.client.ServerProxy(self.url)
        r = raw.session.logout(old)
        check(r.get("Status") == "Success", "raw session.logout %r" % r)
        r = raw.pool.get_all(old)
        check(r.get("Status") == "Failure" and r.get("ErrorDescription") == ["SESSION_INVALID", old],
              "a logged-out session gives %r, expected SESSION_INVALID [%s]" % (r, old))
        # XenAPI.py sees SESSION_INVALID, logs in again with the saved credentials and retries the call.
        pools = x.pool.get_all()
        check(pools == [self.pool], "call after the session was logged out returned %r" % pools)
        check(self.s.handle != old and REF_RE.match(self.s.handle), "no new session after re-login (%r)" % self.s.handle)
        check(self.s.API_version == "2.21", "API_version after re-login %r" % self.s.API_version)

        # A Session holding a stale handle it did not log in for cannot re-login: XenAPI.py raises Fault 401.
        stale = XenAPI.Session(self.url)
        stale._session = old
        try:
            stale.xenapi.pool.get_all()
            raise CheckFailed("a call with a logged-out handle and no credentials succeeded")
        except xmlrpc.client.Fault as f:
            check(f.faultCode == 401, "call with a stale handle: Fault %r, expected 401 'You must log in'" % f)

    def logout(self):
        x = self.x
        handle = self.s.handle
        x.session.logout()
        check(self.s.handle is None, "handle kept after logout")
        raw = xmlrpc.client.ServerProxy(self.url)
        r = raw.VDI.get_all(handle)
        check(r.get("ErrorDescription") == ["SESSION_INVALID", handle], "session usable after logout: %r" % r)

    def cleanup_all(self, strict):
        errors = []
        for what, fn in reversed(self.cleanup):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append("%s: %s" % (what, e))
        self.cleanup = []
        if strict and errors:
            raise CheckFailed("cleanup failed: " + "; ".join(errors))

    def run(self):
        self.step("login_with_password (4 args), API_version from pool master", self.login)
        self.step("wrong password raises Failure SESSION_AUTHENTICATION_FAILED", self.bad_login)
        self.step("pool/host/SR/PBD records", self.records)
        self.step("VDI.create with a full record, getters/setters/maps", self.vdi_create)
        self.step("VDI.snapshot and VDI.clone", self.vdi_snapshot_clone)
        self.step("Async.VDI.snapshot, task polling, task.get_result parsed", self.async_snapshot)
        self.step("failed Async call: task failure with error_info", self.async_failure)
        self.step("event.from loop: block, add, mod, del; event.inject", self.events)
        self.step("errors as XenAPI.Failure with details", self.errors)
        self.step("VDIs destroyed", lambda: self.cleanup_all(True))
        self.step("SESSION_INVALID: silent re-login and retry", self.relogin)
        self.step("logout", self.logout)


def main(argv):
    if len(argv) != 4:
        print("usage: %s URL USER PASSWORD" % argv[0])
        return 2
    run = Run(argv[1], argv[2], argv[3])
    try:
        run.run()
    except CheckFailed as e:
        print("FAIL: %s" % e)
        run.cleanup_all(False)
        return 1
    except XenAPI.Failure as e:
        print("FAIL: unexpected XenAPI.Failure %s" % e.details)
        traceback.print_exc(file=sys.stdout)
        run.cleanup_all(False)
        return 1
    except Exception as e:  # noqa: BLE001 - any other problem fails the run
        print("FAIL: %s: %s" % (type(e).__name__, e))
        traceback.print_exc(file=sys.stdout)
        run.cleanup_all(False)
        return 1
    print("xenapi_py_test: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
