#!/usr/bin/env bash
# ./bench/run iscsi [--size-mib N] [--count N]: 4 KiB throughput of our array against tgtd serving
# a raw file, same machine, same run, same clients (qemu-img bench, iscsi-perf, qemu-img convert).
# Prints each figure for both and the ratio ours/tgtd (target >= 0.7).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
size_mib=512
count=200000
while (($#)); do
  case "$1" in
    --size-mib) size_mib="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    *) echo "bench iscsi: unknown option $1" >&2; exit 2 ;;
  esac
done
work="${XSM_BENCH_DIR:-$root/bench/target/bench-data}/iscsi"
rm -rf "$work"; mkdir -p "$work"
size=$((size_mib * 1024 * 1024))

start_array "$work/pool"
lun=$(array_create bench "$size")
ours="iscsi://$array_portal/iqn.2026-11.org.xsm:array/$lun"
truncate -s "$size" "$work/tgtd.raw"
start_tgtd 11 "$work/tgtd.raw"
theirs="iscsi://$tgt_portal/$tgt_iqn/1"

head -c "$size" /dev/urandom >"$work/random.raw"
rate() { python3 -c "print(f'{$1/$2:.0f}')"; }

# Each measure prints one number (higher is better) for a URL.
fill() { # unique random data, 2 MiB requests: MiB/s
  local t0 t1; t0=$(date +%s.%N)
  qemu-img convert -n -f raw -O raw "$work/random.raw" "$1"
  t1=$(date +%s.%N); python3 -c "print(f'{$size_mib/($t1-$t0):.1f}')"
}
bench() { # qemu-img bench, 4 KiB, queue depth 32: IOPS
  local url="$1"; shift
  local secs; secs=$(qemu-img bench -f raw -c "$count" -d 32 -s 4k "$@" "$url" 2>&1 | sed -n 's/Run completed in \([0-9.]*\) seconds./\1/p')
  rate "$count" "$secs"
}
perf_random_read() { # iscsi-perf, random 4 KiB reads, 32 in flight, 10 s: IOPS
  timeout 30 iscsi-perf -t 10 -r -b 8 -m 32 "$1" 2>&1 | tr '\r' '\n' | sed -n 's/.*iops average \([0-9]*\) .*/\1/p' | tail -1
}

printf '%-58s %12s %12s %7s\n' "measure ($size_mib MiB LUN)" "xsm array" "tgtd" "ratio"
row() {
  local name="$1" a="$2" b="$3"
  printf '%-58s %12s %12s %7s\n' "$name" "$a" "$b" "$(python3 -c "print(f'{$a/$b:.2f}')")"
}
row "sequential write, unique data, qemu-img convert (MiB/s)" "$(fill "$ours")" "$(fill "$theirs")"
row "sequential read 4 KiB, qemu-img bench d32 (IOPS)" "$(bench "$ours")" "$(bench "$theirs")"
row "random read 4 KiB, iscsi-perf -r m32 (IOPS)" "$(perf_random_read "$ours")" "$(perf_random_read "$theirs")"
row "sequential write 4 KiB, qemu-img bench -w d32 (IOPS)" "$(bench "$ours" -w --pattern=165)" "$(bench "$theirs" -w --pattern=165)"
# qemu-img bench has no random mode: a prime stride of 4 KiB blocks (wrapping at the end) visits
# the blocks in a scattered order.
row "scattered write 4 KiB, step 1009 blocks, d32 (IOPS)" "$(bench "$ours" -w --pattern=90 -S $((1009 * 4096)))" "$(bench "$theirs" -w --pattern=90 -S $((1009 * 4096)))"
echo "note: qemu-img bench writes one repeated pattern, which our pool stores once (dedup); the"
echo "      unique-data row is the one where every block costs a data write on both targets."
curl -sf -u bench:bench "$array_control/api/v1/pool"; echo
