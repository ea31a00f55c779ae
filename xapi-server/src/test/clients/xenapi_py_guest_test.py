#!/usr/bin/python3
"""A real guest (QEMU) driven by XenAPI.py (Debian's python3-os-xenapi), as a script would.

usage: /usr/bin/python3 xenapi_py_guest_test.py URL USER PASSWORD VM_UUID

The VM (a guest with a kernel and a disk, Halted) is made by the calling test. The script starts
it, pauses and unpauses it, snapshots it while it runs, checkpoints it, reverts to the checkpoint
(Suspended, as xapi), resumes it, shuts it down cleanly (ACPI), and checks each power state and
the snapshot links through the records. Exits 1 on the first failure, naming it.
"""

import sys

from os_xenapi.client import XenAPI


def check(cond, what):
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)


def main():
    url, user, password, vm_uuid = sys.argv[1:5]
    s = XenAPI.Session(url)
    s.xenapi.login_with_password(user, password, "2.21", "xenapi_py_guest_test")
    x = s.xenapi
    try:
        vm = x.VM.get_by_uuid(vm_uuid)
        power = lambda: x.VM.get_power_state(vm)
        x.VM.start(vm, False, False)
        check(power() == "Running", "VM.start: " + power())
        print("ok   VM.start: Running")
        x.VM.pause(vm)
        check(power() == "Paused", "VM.pause: " + power())
        x.VM.unpause(vm)
        check(power() == "Running", "VM.unpause: " + power())
        print("ok   VM.pause / VM.unpause")
        snap = x.VM.snapshot(vm, "py-live")
        check(x.VM.get_snapshot_of(snap) == vm, "snapshot_of")
        check(power() == "Running", "the guest runs on after VM.snapshot")
        print("ok   VM.snapshot of the running guest")
        x.VM.clean_shutdown(vm)
        check(power() == "Halted", "VM.clean_shutdown: " + power())
        print("ok   VM.clean_shutdown (ACPI)")
        x.VM.start(vm, False, False)
        check(power() == "Running", "VM.start again: " + power())
        cp = x.VM.checkpoint(vm, "py-checkpoint")
        rec = x.VM.get_record(cp)
        check(rec["power_state"] == "Suspended", "checkpoint power_state " + rec["power_state"])
        check(rec["suspend_VDI"] != "OpaqueRef:NULL", "the checkpoint keeps the memory in a VDI")
        check(power() == "Running", "the guest runs on after VM.checkpoint")
        print("ok   VM.checkpoint: memory in " + rec["suspend_VDI"])
        x.VM.revert(cp)
        check(power() == "Suspended", "revert to a checkpoint ends Suspended: " + power())
        x.VM.resume(vm, False, False)
        check(power() == "Running", "VM.resume: " + power())
        print("ok   VM.revert to the checkpoint, VM.resume")
        x.VM.hard_shutdown(vm)
        check(power() == "Halted", "VM.hard_shutdown: " + power())
        print("ok   VM.hard_shutdown")
        for v in (snap, cp):
            x.VM.destroy(v)
        print("xenapi_py_guest_test: all checks passed")
    finally:
        s.xenapi.session.logout()


if __name__ == "__main__":
    main()
