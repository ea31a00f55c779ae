#!/usr/bin/python3
"""Roles through XenAPI.py (Debian's python3-os-xenapi), as a script run by a non-root user sees them.

usage: /usr/bin/python3 xenapi_py_rbac_test.py URL ROOT_PASSWORD

Needs the server's users rb-read (read-only) and rb-vmop (vm-operator), password <user>-pw. Prints one
line per check and exits 1 on the first failure, naming it.
"""

import sys

try:
    from os_xenapi.client import XenAPI
except ImportError as e:
    print("FAIL: cannot import XenAPI.py from python3-os-xenapi (%s); install it: apt-get install python3-os-xenapi" % e)
    sys.exit(2)


def check(cond, what):
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)
    print("ok: " + what)


def denied(call, permission, what):
    try:
        call()
    except XenAPI.Failure as f:
        check(f.details[0] == "RBAC_PERMISSION_DENIED" and f.details[1] == permission,
              "%s is refused with RBAC_PERMISSION_DENIED [%s, ...] (got %s)" % (what, permission, f.details))
        return
    check(False, what + " is refused")


def login(url, user, password):
    s = XenAPI.Session(url)
    s.xenapi.login_with_password(user, password, "2.21", "xenapi_py_rbac_test")
    return s


def main():
    url, root_password = sys.argv[1], sys.argv[2]
    root = login(url, "root", root_password)
    vm = root.xenapi.VM.create({"name_label": "py-rbac", "memory_static_max": "268435456",
                                "memory_dynamic_max": "268435456", "memory_dynamic_min": "268435456",
                                "memory_static_min": "268435456", "VCPUs_max": "1", "VCPUs_at_startup": "1",
                                "other_config": {}})
    try:
        op = login(url, "rb-vmop", "rb-vmop-pw")
        me = op._session
        check(not op.xenapi.session.get_is_local_superuser(me), "a vm-operator is not the local superuser")
        perms = op.xenapi.session.get_rbac_permissions(me)
        check("vm.start" in perms and "vm.destroy" not in perms,
              "a vm-operator's session lists vm.start and not vm.destroy")
        check(vm in op.xenapi.VM.get_all_records(), "a vm-operator reads every VM")
        op.xenapi.VM.start(vm, False, False)
        check(op.xenapi.VM.get_power_state(vm) == "Running", "a vm-operator starts a VM")
        op.xenapi.VM.hard_shutdown(vm)
        denied(lambda: op.xenapi.VM.destroy(vm), "vm.destroy", "VM.destroy by a vm-operator")
        denied(lambda: op.xenapi.Async.VM.destroy(vm), "vm.destroy", "Async.VM.destroy by a vm-operator")
        op.xenapi.session.logout()

        ro = login(url, "rb-read", "rb-read-pw")
        check(ro.xenapi.VM.get_name_label(vm) == "py-rbac", "a read-only user reads a VM")
        denied(lambda: ro.xenapi.VM.start(vm, False, False), "vm.start", "VM.start by a read-only user")
        roles = ro.xenapi.role.get_all_records()
        six = sorted(r["name_label"] for r in roles.values() if r["subroles"])
        check(six == sorted(["pool-admin", "pool-operator", "vm-power-admin", "vm-admin", "vm-operator",
                             "read-only"]), "role.get_all_records has xapi's six roles (%s)" % six)
        ro.xenapi.session.logout()
    finally:
        root.xenapi.VM.destroy(vm)
        root.xenapi.session.logout()
    print("xenapi_py_rbac_test: all checks passed")


if __name__ == "__main__":
    main()
