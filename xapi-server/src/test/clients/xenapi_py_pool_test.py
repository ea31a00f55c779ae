# XenAPI.py pointed at a pool MEMBER: its login fails with HOST_IS_SLAVE and the master's address;
# the caller logs in there instead (as OpenStack's os_xenapi session and the SDK documentation do:
# XenAPI.py itself does not retry), and reads the pool from the master.
#
# usage: python3 xenapi_py_pool_test.py MEMBER_URL USER PASSWORD MASTER_ADDRESS
import sys
import urllib.parse

from os_xenapi.client import XenAPI

url, user, password, master_address = sys.argv[1:5]

session = XenAPI.Session(url)
try:
    session.xenapi.login_with_password(user, password, "2.21", "xenapi_py_pool_test")
    print("FAIL: a member accepted a login")
    sys.exit(1)
except XenAPI.Failure as e:
    if e.details[:2] != ["HOST_IS_SLAVE", master_address]:
        print("FAIL: expected HOST_IS_SLAVE %s, got %s" % (master_address, e.details))
        sys.exit(1)
    parts = urllib.parse.urlparse(url)
    master_url = url.replace(parts.hostname, e.details[1])
session = XenAPI.Session(master_url)
session.xenapi.login_with_password(user, password, "2.21", "xenapi_py_pool_test")
try:
    pool = session.xenapi.pool.get_all()[0]
    master = session.xenapi.pool.get_master(pool)
    address = session.xenapi.host.get_address(master)
    if address != master_address:
        print("FAIL: pool.master's address is %s, not %s" % (address, master_address))
        sys.exit(1)
    live = [session.xenapi.host_metrics.get_live(session.xenapi.host.get_metrics(h))
            for h in session.xenapi.host.get_all()]
    print("hosts %d live %d" % (len(live), sum(1 for x in live if x)))
finally:
    session.xenapi.session.logout()
print("xenapi_py_pool_test: all checks passed")
