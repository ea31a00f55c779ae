#!/usr/bin/env bash
# sm-iscsi/scripts/conformance-vs-tgtd.sh [SUITE...]: runs libiscsi's iscsi-test-cu, one suite per
# run, against our array and against tgtd serving a raw file (each LUN 128 MiB, --dataloss), and
# prints per-suite pass counts side by side. Default: every SCSI.* and iSCSI.* suite.
# SCSI.ReadOnly runs against a snapshot LUN on our array and a readonly=1 LUN on tgtd.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work="${XSM_CONFORMANCE_DIR:-$root/sm-iscsi/target/conformance}"
rm -rf "$work"; mkdir -p "$work"
suites=("$@")
if ((${#suites[@]} == 0)); then
  mapfile -t suites < <(iscsi-test-cu --list 2>&1 | grep -E '^(SCSI|iSCSI)\.[A-Za-z0-9]+$')
fi

start_array "$work/pool"
lun=$(array_create conformance $((128 << 20)))
id=$(curl -sf -u bench:bench "$array_control/api/v1/luns" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
snap=$(curl -sf -u bench:bench -H 'Content-Type: application/json' -d '{"name":"ro"}' \
  "$array_control/api/v1/luns/$id/snapshot" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lun"])')
truncate -s $((128 << 20)) "$work/tgtd.raw" "$work/tgtd-ro.raw"
start_tgtd 12 "$work/tgtd.raw"
tgtadm -C 12 --lld iscsi --op new --mode logicalunit --tid 1 --lun 2 -b "$work/tgtd-ro.raw"
tgtadm -C 12 --lld iscsi --op update --mode logicalunit --tid 1 --lun 2 --params readonly=1

# Prints "passed/total" for one suite against one URL.
run_suite() {
  local out
  out=$(timeout 600 iscsi-test-cu --dataloss -i iqn.2026-11.org.xsm:cu-1 -I iqn.2026-11.org.xsm:cu-2 \
    --test="$1" "$2" 2>&1 || true)
  echo "$out" >>"$work/$3.log"
  echo "$out" | awk '$1 == "tests" { printf "%d/%d", $4, $2; found=1 } END { if (!found) printf "error" }'
}

printf '%-30s %10s %10s\n' suite "xsm array" tgtd
ours_pass=0; ours_total=0; tgt_pass=0; tgt_total=0
for s in "${suites[@]}"; do
  ours_lun=$lun; tgt_lun=1
  if [[ "$s" == SCSI.ReadOnly ]]; then ours_lun=$snap; tgt_lun=2; fi
  a=$(run_suite "$s" "iscsi://$array_portal/iqn.2026-11.org.xsm:array/$ours_lun" ours)
  b=$(run_suite "$s" "iscsi://$tgt_portal/$tgt_iqn/$tgt_lun" tgtd)
  printf '%-30s %10s %10s\n' "$s" "$a" "$b"
  if [[ "$a" == */* ]]; then ours_pass=$((ours_pass + ${a%/*})); ours_total=$((ours_total + ${a#*/})); fi
  if [[ "$b" == */* ]]; then tgt_pass=$((tgt_pass + ${b%/*})); tgt_total=$((tgt_total + ${b#*/})); fi
done
printf '%-30s %10s %10s\n' "total (${#suites[@]} suites)" "$ours_pass/$ours_total" "$tgt_pass/$tgt_total"
echo "logs: $work/ours.log $work/tgtd.log"
