#!/usr/bin/env bash
# P3 and P5 of issue 5, arunner and Debian's ansible-runner side by side in one run.
#   P3  `process` ingest of one recorded ~10,000-event worker stream: events/s, writing
#       job_events files (CLI) and with an event handler that returns false (library)
#   P5  `transmit` of a 1 GB private data dir of incompressible files: wall time, peak RSS;
#       ansible-runner's worker must unpack what arunner sends
# Usage: bench/streaming.sh [size_mb]   (default 1024; needs scripts/setup to have run)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb="${1:-1024}"
arunner="$PWD/build/arunner"
work=$(mktemp -d /tmp/arunner-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
cache=/tmp/arunner-bench-cache
mkdir -p "$cache"

wall_ms() {
  local start=$EPOCHREALTIME end
  "$@" >/dev/null 2>&1 || true
  end=$EPOCHREALTIME
  echo "$start $end" | awk '{ printf "%.0f\n", ($2 - $1) * 1000 }'
}

# --- P3: one worker stream of ~10,000 events, recorded once (ansible takes ~30 s for it).
stream="$cache/loop-10k.worker-stream"
if [ ! -s "$stream" ]; then
  cp -r bench/fixtures/loop-10k "$work/loop"
  "$arunner" transmit "$work/loop" -p site.yml >"$work/loop.job"
  "$arunner" worker <"$work/loop.job" >"$stream"
fi
events=$(grep -c '"counter": [1-9]' "$stream" || true)
# Creating 10,000 files costs the file system more than either runner spends: on this disk
# (ext4) it dominates, so the ingest is measured on tmpfs as well, where the runners' own cost
# shows.
fast=/dev/shm
[ -d "$fast" ] || fast="$work"
shm=$(mktemp -d "$fast/arunner-bench-XXXXXX")
trap 'rm -rf "$work" "$shm"' EXIT
ours_shm=$(wall_ms "$arunner" process "$shm/p-ours" -q -i x <"$stream")
theirs_shm=$(wall_ms bash -c "/usr/bin/ansible-runner process '$shm/p-theirs' -i x <'$stream'")
rm -rf "$shm"/*
ours_ms=$(wall_ms "$arunner" process "$work/p-ours" -q -i x <"$stream")
theirs_ms=$(wall_ms bash -c "/usr/bin/ansible-runner process '$work/p-theirs' -i x <'$stream'")
read -r h_events h_seconds _ < <(build/arunner_process_bench "$stream")
py_handler=$(/usr/bin/python3 - "$stream" "$work/p-py" <<'PY'
import sys, time
from ansible_runner.streaming import Processor
stream, pdd = sys.argv[1], sys.argv[2]
with open(stream, 'rb') as f:
    p = Processor(_input=f, private_data_dir=pdd, ident='x', quiet=True, event_handler=lambda e: False)
    start = time.monotonic()
    p.run()
    print(time.monotonic() - start)
PY
)
awk -v n="$events" -v o="$ours_ms" -v t="$theirs_ms" -v os="$ours_shm" -v ts="$theirs_shm" -v he="$h_events" -v hs="$h_seconds" -v ph="$py_handler" 'BEGIN {
  eo = n / (o / 1000); et = n / (t / 1000)
  printf "P3 process, %d events, writing job_events on disk: arunner %.0f events/s (%d ms), ansible-runner %.0f events/s (%d ms), ratio %.1fx (target >= 10x)\n", n, eo, o, et, t, eo / et
  eo = n / (os / 1000); et = n / (ts / 1000)
  printf "P3 the same on tmpfs: arunner %.0f events/s (%d ms), ansible-runner %.0f events/s (%d ms), ratio %.1fx\n", eo, os, et, ts, eo / et
  hh = he / hs; ph2 = n / ph
  printf "P3 process with a handler returning false: arunner %.0f events/s, ansible-runner %.0f events/s, ratio %.1fx (target >= 50x)\n", hh, ph2, hh / ph2
}'

# --- P5: a private data dir of incompressible files, made once.
big="$cache/pdd-${size_mb}mb"
if [ ! -d "$big/project" ]; then
  mkdir -p "$big/project" "$big/inventory"
  printf 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n' >"$big/inventory/hosts"
  printf -- '- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=big\n' >"$big/project/site.yml"
  for ((i = 0; i < size_mb / 16; i++)); do
    head -c $((16 << 20)) /dev/urandom >"$big/project/blob-$i.bin"
  done
fi
measure() {  # prints "seconds peak_kb"
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out.stream" 2>/dev/null || true
  cat "$work/time"
}
read -r os orss < <(measure "$arunner" transmit "$big" -p site.yml)
ours_bytes=$(stat -c %s "$work/out.stream")
# ansible-runner's worker must unpack what arunner sends (kwargs + zip only: run nothing).
unpack_ok=$(/usr/bin/python3 - "$work/out.stream" "$work/unpacked" <<'PY'
import json, sys
from ansible_runner.utils.streaming import unstream_dir
with open(sys.argv[1], 'rb') as f:
    json.loads(f.readline())
    size = json.loads(f.readline())['zipfile']
    unstream_dir(f, size, sys.argv[2])
print('ok')
PY
)
files_ok=$(diff -rq "$big/project" "$work/unpacked/project" >/dev/null && echo identical || echo DIFFERENT)
rm -rf "$work/unpacked"
read -r ts trss < <(measure /usr/bin/ansible-runner transmit "$big" -p site.yml)
awk -v os="$os" -v orss="$orss" -v ts="$ts" -v trss="$trss" -v mb="$size_mb" -v ok="$unpack_ok" -v same="$files_ok" -v bytes="$ours_bytes" 'BEGIN {
  printf "P5 transmit %d MB of incompressible files: arunner %.1f s, %.0f MB peak RSS; ansible-runner %.1f s, %.0f MB peak RSS\n", mb, os, orss / 1024, ts, trss / 1024
  printf "P5 ratio arunner/ansible-runner wall = %.3f (target <= 0.25), RSS ratio %.2f; stream %.0f MB; ansible-runner unpacked it: %s, files %s\n", os / ts, orss / trss, bytes / 1e6, ok, same
}'
