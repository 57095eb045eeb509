#!/usr/bin/env bash
# P3 and P5 of issue 5, arunner and Debian's ansible-runner side by side in one run.
#   P3  `process` ingest of one recorded ~10,000-event worker stream: events/s, writing
#       job_events files (CLI, whole process, both quiet) and with an event handler that returns
#       false (library calls in-process: arunner::process() and ansible-runner's Processor.run())
#   P5  `transmit` of a 1 GB private data dir of incompressible files: wall time, peak RSS;
#       ansible-runner's worker must unpack what arunner sends
# Usage: bench/streaming.sh [--p3] [size_mb]   (--p3: P3 only; size_mb for P5, default 1024)
# Environment: ARUNNER (default build/arunner; arunner_process_bench is taken from the same
# directory unless ARUNNER_PROCESS_BENCH says otherwise), RUNS (default 3: each P3 figure is the
# best of RUNS runs, the two runners alternating, as other work on the machine adds noise).
set -euo pipefail
cd "$(dirname "$0")/.."
only_p3=false
if [ "${1:-}" = "--p3" ]; then
  only_p3=true
  shift
fi
size_mb="${1:-1024}"
arunner="$(realpath "${ARUNNER:-build/arunner}")"
process_bench="${ARUNNER_PROCESS_BENCH:-$(dirname "$arunner")/arunner_process_bench}"
runs="${RUNS:-3}"
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
min() { printf '%s\n' "$@" | sort -g | head -1; }

# --- P3: one worker stream of ~10,000 events, recorded once (ansible takes ~30 s for it).
stream="$cache/loop-10k.worker-stream"
if [ ! -s "$stream" ]; then
  cp -r bench/fixtures/loop-10k "$work/loop"
  "$arunner" transmit "$work/loop" -p site.yml >"$work/loop.job"
  "$arunner" worker <"$work/loop.job" >"$stream"
fi
events=$(grep -c '"counter": [1-9]' "$stream" || true)
ours_cli() { "$arunner" -q process "$1" -i x <"$stream"; }
theirs_cli() { /usr/bin/ansible-runner -q process "$1" -i x <"$stream"; }
# Creating 10,000 files costs the file system more than either runner spends: on this disk
# (ext4) it dominates, so the ingest is measured on tmpfs as well, where the runners' own cost
# shows, and the floor (the same files written by a bare open/write/close loop) on both.
fast=/dev/shm
[ -d "$fast" ] || fast="$work"
shm=$(mktemp -d "$fast/arunner-bench-XXXXXX")
trap 'rm -rf "$work" "$shm"' EXIT
declare -A ms
same=()
for place in shm disk; do
  [ "$place" = shm ] && base="$shm" || base="$work"
  o=() t=() f=()
  for ((r = 0; r < runs; r++)); do
    rm -rf "$base/p-ours" "$base/p-theirs" "$base/floor"
    o+=("$(wall_ms ours_cli "$base/p-ours")")
    t+=("$(wall_ms theirs_cli "$base/p-theirs")")
    read -r _ s < <("$process_bench" --create-files "$base/floor" "$stream")
    f+=("$(awk -v s="$s" 'BEGIN { printf "%.0f\n", s * 1000 }')")
  done
  ms[ours_$place]=$(min "${o[@]}") ms[theirs_$place]=$(min "${t[@]}") ms[floor_$place]=$(min "${f[@]}")
  # The same artifacts and job_events, byte for byte (the command line of the worker aside).
  same[${#same[@]}]=$(diff -r "$base/p-ours/artifacts/x" "$base/p-theirs/artifacts/x" >/dev/null && echo identical || echo DIFFERENT)
  rm -rf "$base/p-ours" "$base/p-theirs" "$base/floor"
done
h=() p=()
for ((r = 0; r < runs; r++)); do
  read -r h_events h_seconds _ < <("$process_bench" "$stream")
  h+=("$h_seconds")
  p+=("$(/usr/bin/python3 - "$stream" "$work/p-py" <<'PY'
import sys, time
from ansible_runner.streaming import Processor
stream, pdd = sys.argv[1], sys.argv[2]
with open(stream, 'rb') as f:
    p = Processor(_input=f, private_data_dir=pdd, ident='x', quiet=True, event_handler=lambda e: False)
    start = time.monotonic()
    p.run()
    print(time.monotonic() - start)
PY
)")
  rm -rf "$work/p-py"
done
awk -v n="$events" -v runs="$runs" -v o="${ms[ours_disk]}" -v t="${ms[theirs_disk]}" -v fd="${ms[floor_disk]}" \
  -v os="${ms[ours_shm]}" -v ts="${ms[theirs_shm]}" -v fs="${ms[floor_shm]}" \
  -v he="$h_events" -v hs="$(min "${h[@]}")" -v ph="$(min "${p[@]}")" -v same_shm="${same[0]}" -v same_disk="${same[1]}" 'BEGIN {
  eo = n / (o / 1000); et = n / (t / 1000)
  printf "P3 process, %d events, writing job_events on disk: arunner %.0f events/s (%d ms), ansible-runner %.0f events/s (%d ms), ratio %.1fx (target >= 10x); best of %d\n", n, eo, o, et, t, eo / et, runs
  eo = n / (os / 1000); et = n / (ts / 1000)
  printf "P3 the same on tmpfs: arunner %.0f events/s (%d ms), ansible-runner %.0f events/s (%d ms), ratio %.1fx\n", eo, os, et, ts, eo / et
  printf "P3 floor, the same files written by a bare open/write/close loop: %d ms on disk (%.0f files/s, at most %.1fx ansible-runner), %d ms on tmpfs (%.1fx); artifacts identical to ansible-runner'"'"'s: disk %s, tmpfs %s\n", fd, n / (fd / 1000), t / fd, fs, ts / fs, same_disk, same_shm
  hh = he / hs; ph2 = n / ph
  printf "P3 process with a handler returning false: arunner %.0f events/s (%.1f ms), ansible-runner %.0f events/s (%.1f ms), ratio %.1fx (target >= 50x)\n", hh, hs * 1000, ph2, ph * 1000, hh / ph2
}'
if $only_p3; then
  exit 0
fi

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
