#!/usr/bin/python3
"""XenAPI.py (Debian's python3-os-xenapi) against a restarted xsm server: events and blobs.

usage: /usr/bin/python3 xenapi_py_restart_test.py URL USER PASSWORD before
       /usr/bin/python3 xenapi_py_restart_test.py URL USER PASSWORD after OLD_TOKEN VDI_UUID BLOB_REF

'before' makes a VDI, a message and a blob (with content through the /blob handler), and prints
"TOKEN <event.from token> VDI <uuid> BLOB <ref>". 'after' (once the server was killed and started
again) checks that the old token gets EVENTS_LOST, that event.from with an empty token gives every
current object of every class (each equal to its get_all_records record, the VDI among them), that
the blob's bytes survived, and that the token it got then follows a change. Exits 1 on the first
failed check, naming it.
"""

import sys
import time
import urllib.request
import uuid

try:
    from os_xenapi.client import XenAPI
except ImportError as e:
    print("FAIL: cannot import XenAPI.py from python3-os-xenapi (%s)" % e)
    sys.exit(2)

MIB = 1024 * 1024
BLOB_BYTES = b"xsm blob that outlives a restart\n"
CLASSES = ["pool", "host", "SR", "PBD", "VDI", "VM", "network", "PIF", "SM", "message", "blob"]


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)


def event_from(x, classes, token, timeout):
    return getattr(x.event, "from")(classes, token, timeout)


def before(url, session, x):
    sr = x.pool.get_default_SR(x.pool.get_all()[0])
    vdi = x.VDI.create({
        "SR": sr, "name_label": "restart-events-" + uuid.uuid4().hex[:8], "name_description": "",
        "virtual_size": str(MIB), "type": "user", "sharable": False, "read_only": False,
        "other_config": {}, "xenstore_data": {}, "sm_config": {}, "tags": []})
    pool = x.pool.get_all()[0]
    x.message.create("XSM_RESTART_TEST", "2", "Pool", x.pool.get_uuid(pool), "before the restart")
    blob = x.pool.create_new_blob(pool, "restart-blob", "text/plain", False)
    req = urllib.request.Request("%s/blob?ref=%s&session_id=%s" % (url, blob, session._session),
                                 data=BLOB_BYTES, method="PUT")
    with urllib.request.urlopen(req) as r:
        check(r.status == 200, "PUT /blob answered %d" % r.status)
    token = event_from(x, ["vdi"], "", 0.1)["token"]
    print("TOKEN %s VDI %s BLOB %s" % (token, x.VDI.get_uuid(vdi), blob))


def after(url, session, x, old_token, vdi_uuid, blob):
    try:
        event_from(x, ["vdi"], old_token, 1.0)
        raise CheckFailed("a token from before the restart was accepted")
    except XenAPI.Failure as f:
        check(f.details[0] == "EVENTS_LOST", "old token: expected EVENTS_LOST, got %r" % f.details)
    print("ok   a token from before the restart gets EVENTS_LOST")

    batch = event_from(x, ["*"], "", 30.0)
    by_class = {}
    for e in batch["events"]:
        check(e["operation"] == "add", "event.from('') gave a %s event" % e["operation"])
        by_class.setdefault(e["class"], {})[e["ref"]] = e["snapshot"]
    for cls in CLASSES:
        records = getattr(x, cls).get_all_records()
        got = by_class.get(cls.lower(), {})
        check(set(got) == set(records),
              "%s: event.from('') has %d objects, get_all_records %d" % (cls, len(got), len(records)))
        for ref, rec in records.items():
            if cls not in ("host", "SR", "PBD", "pool", "message"):  # figures the server refreshes
                check(got[ref] == rec, "%s %s: snapshot differs from get_record" % (cls, ref))
    vdis = [s["uuid"] for s in by_class.get("vdi", {}).values()]
    check(vdi_uuid in vdis, "the VDI made before the restart is not among the events")
    check(any(m["name"] == "XSM_RESTART_TEST" for m in by_class.get("message", {}).values()),
          "the message made before the restart is not among the events")
    print("ok   event.from(['*'], '') after the restart gives every object of %d classes" % len(CLASSES))

    with urllib.request.urlopen("%s/blob?ref=%s&session_id=%s" % (url, blob, session._session)) as r:
        body = r.read()
    check(body == BLOB_BYTES, "blob after the restart: %r" % body)
    print("ok   the blob's bytes survived the restart")

    vdi = x.VDI.get_by_uuid(vdi_uuid)
    x.VDI.set_name_label(vdi, "renamed-after-restart")
    deadline = time.time() + 20
    token, seen = batch["token"], False
    while not seen and time.time() < deadline:
        b = event_from(x, ["vdi"], token, 5.0)
        token = b["token"]
        seen = any(e["ref"] == vdi and e["snapshot"]["name_label"] == "renamed-after-restart"
                   for e in b["events"])
    check(seen, "the rename after the restart did not come through event.from")
    print("ok   the new token follows changes")


def main():
    url, user, password, phase = sys.argv[1:5]
    session = XenAPI.Session(url)
    session.xenapi.login_with_password(user, password, "2.21", "xenapi_py_restart_test")
    try:
        if phase == "before":
            before(url, session, session.xenapi)
        else:
            after(url, session, session.xenapi, *sys.argv[5:8])
    finally:
        session.xenapi.session.logout()
    print("xenapi_py_restart_test: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as e:
        print("FAIL: %s" % e)
        sys.exit(1)
    except XenAPI.Failure as e:
        print("FAIL: XenAPI failure %r" % (e.details,))
        sys.exit(1)
