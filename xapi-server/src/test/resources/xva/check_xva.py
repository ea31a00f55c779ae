"""Lists an XVA with Python's tarfile (an oracle independent of xsm) and checks every chunk's
checksum file: .xxhash with the system's libxxhash (XXH64, 16 upper-case hex digits), .checksum
with SHA-1. Prints "name size" per member; exits 1 on a bad checksum.
usage: check_xva.py ARCHIVE   (plain or gzip; zstd archives are decompressed by the caller)"""
import ctypes
import hashlib
import sys
import tarfile

xxh = ctypes.CDLL("libxxhash.so.0")
xxh.XXH64.restype = ctypes.c_uint64
xxh.XXH64.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]

data = {}
with tarfile.open(sys.argv[1], "r:*") as t:
    for m in t:
        if not m.isfile():
            sys.exit("not a regular file: " + m.name)
        body = t.extractfile(m).read()
        print(m.name, m.size)
        if m.name.endswith(".xxhash"):
            d = data[m.name[: -len(".xxhash")]]
            want = "%016X" % xxh.XXH64(d, len(d), 0)
            if body.decode() != want:
                sys.exit("bad xxhash of %s: %s, want %s" % (m.name, body.decode(), want))
        elif m.name.endswith(".checksum"):
            d = data[m.name[: -len(".checksum")]]
            if body.decode() != hashlib.sha1(d).hexdigest():
                sys.exit("bad sha1 of " + m.name)
        elif m.name != "ova.xml":
            data[m.name] = body
