# Shared by the array's scripts: start our array and a tgtd on free ports, stop exactly those.
# Source it; it sets $root and installs an EXIT trap that stops what it started (by PID).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
started_pids=()
tgt_pids=()
cleanup() {
  # tgtd ignores SIGTERM while it has targets; SIGKILL is its documented hard stop.
  for pid in "${tgt_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${started_pids[@]}"; do disown "$pid" 2>/dev/null || true; done
  for pid in "${started_pids[@]}"; do
    pkill -P "$pid" 2>/dev/null || true # a wrapper shell's child (only ours: by parent PID)
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${started_pids[@]}"; do # the array checkpoints on SIGTERM: let it finish
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_array DIR: runs ./xsm array on free ports; sets array_portal, array_control, array_pid.
start_array() {
  local dir="$1" log="$1.log"
  local portal control
  portal=$(free_port); control=$(free_port)
  mkdir -p "$dir"
  "$root/xsm" array --dir "$dir" --portal "127.0.0.1:$portal" --control "127.0.0.1:$control" \
    --user bench --password bench >"$log" 2>&1 &
  array_pid=$!
  started_pids+=("$array_pid")
  for _ in $(seq 600); do grep -qs "array ready" "$log" && break; sleep 0.1; done
  grep -q "array ready" "$log" || { cat "$log" >&2; echo "array did not start" >&2; exit 1; }
  array_portal="127.0.0.1:$portal"
  array_control="http://127.0.0.1:$control"
}

# array_create NAME SIZE_BYTES: creates a LUN; prints its LUN number.
array_create() {
  curl -sf -u bench:bench -H 'Content-Type: application/json' \
    -d "{\"name\":\"$1\",\"sizeBytes\":$2}" "$array_control/api/v1/luns" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["lun"])'
}

# start_tgtd CONTROL_PORT FILE: tgtd serving FILE as LUN 1 of one target; sets tgt_portal, tgt_iqn.
start_tgtd() {
  local cport="$1" file="$2" portal
  portal=$(free_port)
  tgtd -f -C "$cport" --iscsi "portal=127.0.0.1:$portal" >"$file.tgtd.log" 2>&1 &
  local launched=$! child
  started_pids+=("$launched")
  sleep 0.2
  child=$(pgrep -P "$launched" -x tgtd || true) # bash may keep a wrapper shell (EXIT trap)
  tgt_pids+=("${child:-$launched}")
  for _ in $(seq 100); do tgtadm -C "$cport" --lld iscsi --op show --mode target >/dev/null 2>&1 && break; sleep 0.1; done
  tgt_iqn="iqn.2026-11.org.xsm:tgtd-reference"
  tgtadm -C "$cport" --lld iscsi --op new --mode target --tid 1 -T "$tgt_iqn"
  tgtadm -C "$cport" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$file"
  tgtadm -C "$cport" --lld iscsi --op bind --mode target --tid 1 -I ALL
  tgt_portal="127.0.0.1:$portal"
}
