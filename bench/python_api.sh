#!/usr/bin/env bash
# The Python benchmarks of issue 16: `import arunner` against Debian's `import ansible_runner`,
# side by side in one run.
#   (a) run(streamer='process') of one recorded ~10,000-event worker stream with a Python
#       event_handler that counts events: events/s of each, the ratio (target >= 5x); with the
#       handler returning true (job_events files written, on tmpfs so that the file system does
#       not hide the runners' own cost) and returning false (no files)
#   (b) run() of a one-task play from Python against bare ansible-playbook of the same play:
#       overhead = run - bare for each module, and the ratio of the overheads (target <= 0.1)
# Each figure is the median of RUNS runs (default 3), the runners alternating.
# Usage: bench/python_api.sh
# Environment: ARUNNER (default build/arunner, records the stream once, as bench/streaming.sh
# does), ARUNNER_PYTHONPATH (default build/python: where arunner.cpython-*.so is), RUNS.
set -euo pipefail
cd "$(dirname "$0")/.."
arunner="$(realpath "${ARUNNER:-build/arunner}")"
pypath="$(realpath "${ARUNNER_PYTHONPATH:-build/python}")"
runs="${RUNS:-3}"
py=/usr/bin/python3  # Debian's, which has ansible_runner
helper="$PWD/bench/python_api.py"
work=$(mktemp -d /tmp/arunner-bench-XXXXXX)
fast=/dev/shm
[ -d "$fast" ] || fast="$work"
shm=$(mktemp -d "$fast/arunner-bench-XXXXXX")
trap 'rm -rf "$work" "$shm"' EXIT
cache=/tmp/arunner-bench-cache
mkdir -p "$cache"
if ! PYTHONPATH="$pypath" "$py" -c 'import arunner' 2>/dev/null; then
  echo "no arunner module in $pypath (cmake --build build --target arunner_python)" >&2
  exit 1
fi
ours() { PYTHONPATH="$pypath" "$py" "$helper" "$1" arunner "${@:2}"; }
theirs() { "$py" "$helper" "$1" ansible_runner "${@:2}"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- (a) the recorded stream: the same recording as bench/streaming.sh (ansible takes ~30 s).
stream="$cache/loop-10k.worker-stream"
if [ ! -s "$stream" ]; then
  cp -r bench/fixtures/loop-10k "$work/loop"
  "$arunner" transmit "$work/loop" -p site.yml >"$work/loop.job"
  "$arunner" worker <"$work/loop.job" >"$stream"
fi
for write in true false; do
  o=() t=()
  for ((r = 0; r < runs; r++)); do
    rm -rf "$shm/ours" "$shm/theirs"
    read -r events s < <(ours process "$stream" "$shm/ours" "$write")
    o+=("$s")
    read -r tevents s < <(theirs process "$stream" "$shm/theirs" "$write")
    t+=("$s")
  done
  awk -v n="$events" -v tn="$tevents" -v o="$(median "${o[@]}")" -v t="$(median "${t[@]}")" -v w="$write" -v runs="$runs" 'BEGIN {
    what = (w == "true") ? "handler counting, returning True (job_events written, tmpfs)" : "handler counting, returning False (no files)"
    printf "(a) process %d events, %s: arunner %.0f events/s (%.0f ms), ansible_runner %.0f events/s (%.0f ms, %d events), ratio %.1fx (target >= 5x); median of %d\n", n, what, n / o, o * 1000, tn / t, t * 1000, tn, (n / o) / (tn / t), runs
  }'
done
rm -rf "$shm/ours" "$shm/theirs"

# --- (b) run() of a one-task play against bare ansible-playbook.
cp -r bench/fixtures/one-task "$work/pdd"
bare_s() {
  local start=$EPOCHREALTIME end
  (cd "$work/pdd/project" && /usr/bin/ansible-playbook -i ../inventory/hosts site.yml) >/dev/null 2>&1
  end=$EPOCHREALTIME
  echo "$start $end" | awk '{ printf "%.4f\n", $2 - $1 }'
}
bare_s >/dev/null; ours run "$work/pdd" warm >/dev/null; theirs run "$work/pdd" warm >/dev/null
b=() o=() t=()
for ((r = 0; r < runs; r++)); do  # interleaved, so drift hits all three alike
  b+=("$(bare_s)")
  o+=("$(ours run "$work/pdd" "o$r")")
  t+=("$(theirs run "$work/pdd" "t$r")")
  rm -rf "$work/pdd/artifacts"
done
awk -v b="$(median "${b[@]}")" -v o="$(median "${o[@]}")" -v t="$(median "${t[@]}")" -v runs="$runs" 'BEGIN {
  printf "(b) run() of a one-task play: bare ansible-playbook %.0f ms, arunner.run %.0f ms, ansible_runner.run %.0f ms; median of %d\n", b * 1000, o * 1000, t * 1000, runs
  printf "(b) overhead above bare: arunner %.0f ms, ansible_runner %.0f ms, ratio %.3f (target <= 0.1)\n", (o - b) * 1000, (t - b) * 1000, (o - b) / (t - b)
}'
