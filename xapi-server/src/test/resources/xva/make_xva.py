"""Writes an XVA from the documented layout with Python's tarfile, independently of xsm: ova.xml
(an XML-RPC struct {version, objects}) describing a VM with one VIF on a network named NETWORK and
one disk, then the disk's chunks: chunk 0 and the last with SHA-1 (.checksum), the chunks holding
data with XXH64 (.xxhash, via libxxhash), all-zero chunks left out.
usage: make_xva.py OUT DISK_IMAGE VM_NAME NETWORK"""
import ctypes
import hashlib
import sys
import tarfile
import io
import time

out, image, vm_name, network = sys.argv[1:5]
disk = open(image, "rb").read()
CHUNK = 1024 * 1024
xxh = ctypes.CDLL("libxxhash.so.0")
xxh.XXH64.restype = ctypes.c_uint64
xxh.XXH64.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]


def v(x):
    if isinstance(x, bool):
        return "<value><boolean>%d</boolean></value>" % x
    if isinstance(x, int):
        return "<value><i4>%d</i4></value>" % x
    if isinstance(x, dict):
        return "<value><struct>%s</struct></value>" % "".join(
            "<member><name>%s</name>%s</member>" % (k, v(x[k])) for k in x)
    if isinstance(x, list):
        return "<value><array><data>%s</data></array></value>" % "".join(v(i) for i in x)
    return "<value>%s</value>" % x


NULL = "OpaqueRef:NULL"
objects = [
    {"class": "VM", "id": "Ref:0", "snapshot": {
        "uuid": "5d2b3c1e-0000-4000-8000-000000000001", "name_label": vm_name,
        "name_description": "written by make_xva.py", "power_state": "Halted",
        "is_a_template": False, "memory_static_max": "536870912", "memory_dynamic_max": "536870912",
        "memory_dynamic_min": "536870912", "memory_static_min": "134217728",
        "VCPUs_max": "3", "VCPUs_at_startup": "3", "other_config": {"made-by": "python"},
        "VBDs": ["Ref:1"], "VIFs": ["Ref:4"], "resident_on": NULL, "affinity": NULL,
        "suspend_VDI": NULL, "metrics": NULL, "guest_metrics": NULL, "parent": NULL,
        "snapshot_of": NULL, "is_a_snapshot": False, "HVM_boot_policy": "BIOS order",
        "actions_after_crash": "a-value-from-some-future-xapi"}},
    {"class": "VBD", "id": "Ref:1", "snapshot": {
        "uuid": "5d2b3c1e-0000-4000-8000-000000000002", "VM": "Ref:0", "VDI": "Ref:2",
        "userdevice": "0", "device": "xvda", "bootable": True, "mode": "RW", "type": "Disk",
        "empty": False, "currently_attached": False, "other_config": {}}},
    {"class": "VDI", "id": "Ref:2", "snapshot": {
        "uuid": "5d2b3c1e-0000-4000-8000-000000000003", "name_label": vm_name + " disk",
        "name_description": "", "SR": "Ref:3", "virtual_size": str(len(disk)), "type": "user",
        "sharable": False, "read_only": False, "other_config": {}, "sm_config": {},
        "xenstore_data": {}, "tags": [], "VBDs": ["Ref:1"]}},
    {"class": "SR", "id": "Ref:3", "snapshot": {
        "uuid": "5d2b3c1e-0000-4000-8000-000000000004", "name_label": "Local storage",
        "content_type": "user", "type": "ext", "VDIs": ["Ref:2"]}},
    {"class": "VIF", "id": "Ref:4", "snapshot": {
        "uuid": "5d2b3c1e-0000-4000-8000-000000000005", "VM": "Ref:0", "network": "Ref:5",
        "device": "0", "MAC": "aa:bb:cc:00:11:22", "MTU": "1500", "other_config": {}}},
    {"class": "network", "id": "Ref:5", "snapshot": {
        "uuid": "5d2b3c1e-0000-4000-8000-000000000006", "name_label": network,
        "name_description": "", "bridge": "xenbr-" + network, "other_config": {}, "VIFs": ["Ref:4"]}},
]
# As a current XCP-ng 8.3 host writes it: a newer xapi than the 21.0 xsm reports, which xapi
# would refuse and xsm imports.
version = {"hostname": "elsewhere", "date": "2025-06-01", "product_version": "8.3.0",
           "product_brand": "XCP-ng", "build_number": "release/ely", "xapi_major": 25,
           "xapi_minor": 6, "export_vsn": 2}
ova = v({"version": version, "objects": objects}).encode()


def add(t, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    t.addfile(info, io.BytesIO(data))


with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as t:
    add(t, "ova.xml", ova)
    n = (len(disk) + CHUNK - 1) // CHUNK
    for i in range(n):
        d = disk[i * CHUNK:(i + 1) * CHUNK]
        name = "Ref:2/%08d" % i
        if i == 0 or i == n - 1:
            add(t, name, d)
            add(t, name + ".checksum", hashlib.sha1(d).hexdigest().encode())
        elif d.count(0) != len(d):
            add(t, name, d)
            add(t, name + ".xxhash", ("%016X" % xxh.XXH64(d, len(d), 0)).encode())
