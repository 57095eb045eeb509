#!/usr/bin/env bash
# The helpers of issue 17 side by side with Debian's ansible-runner 2.3.1, in one run:
#   (a) run_command('true'), (b) get_inventory(action='list') and
#       get_plugin_docs(['ansible.builtin.ping']) from Python, each in a fresh interpreter (the
#       module's import included): arunner's module against ansible_runner, the ratio of the
#       times, and each one's overhead over the bare tool run through subprocess (call - bare)
#       with the ratio of the overheads (lower is better)
# Each figure is the median of RUNS runs (default 5), the runners alternating.
# Usage: bench/commands.sh   Environment: ARUNNER_PYTHONPATH (default build/python), RUNS.
set -euo pipefail
cd "$(dirname "$0")/.."
pypath="$(realpath "${ARUNNER_PYTHONPATH:-build/python}")"
runs="${RUNS:-5}"
py=/usr/bin/python3 # Debian's, which has ansible_runner
helper="$PWD/bench/commands.py"
work=$(mktemp -d /tmp/arunner-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
if ! PYTHONPATH="$pypath" "$py" -c 'import arunner' 2>/dev/null; then
  echo "no arunner module in $pypath (cmake --build build --target arunner_python)" >&2
  exit 1
fi
printf '[web]\nweb1\nweb2\n[db]\ndb1\n' >"$work/hosts.ini"
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
seconds() { # wall seconds of a command, its output discarded
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f\n", e - s }'
}

for what in run_command get_inventory get_plugin_docs; do
  o=() t=() b=()
  for ((r = 0; r < runs; r++)); do
    rm -rf "$work/pdd-ours" "$work/pdd-theirs"
    o+=("$(PYTHONPATH="$pypath" "$py" "$helper" arunner "$what" "$work/pdd-ours" "$work/hosts.ini")")
    t+=("$("$py" "$helper" ansible_runner "$what" "$work/pdd-theirs" "$work/hosts.ini")")
    b+=("$("$py" "$helper" bare "$what" "$work/pdd-bare" "$work/hosts.ini")")
  done
  awk -v what="$what" -v o="$(median "${o[@]}")" -v t="$(median "${t[@]}")" -v b="$(median "${b[@]}")" -v runs="$runs" 'BEGIN {
    printf "%-16s arunner %.0f ms, ansible_runner %.0f ms, ratio %.2f; bare command %.0f ms: overhead %.0f ms vs %.0f ms, ratio %.2f; median of %d\n", what, o * 1000, t * 1000, o / t, b * 1000, (o - b) * 1000, (t - b) * 1000, (o - b) / (t - b), runs
  }'
done

# (c) a role run from the command line (tests/fixtures/role, role greet with two tasks):
#     `arunner run -r` against `ansible-runner run -r`, wall time and the ratio.
arunner="$(realpath "${ARUNNER:-build/arunner}")"
o=() t=()
for ((r = 0; r < runs; r++)); do
  rm -rf "$work/role-ours" "$work/role-theirs"
  cp -r tests/fixtures/role "$work/role-ours"
  cp -r tests/fixtures/role "$work/role-theirs"
  o+=("$(seconds "$arunner" run "$work/role-ours" -r greet --role-skip-facts --hosts localhost -q)")
  t+=("$(seconds ansible-runner run "$work/role-theirs" -r greet --role-skip-facts --hosts localhost -q)")
done
awk -v o="$(median "${o[@]}")" -v t="$(median "${t[@]}")" -v runs="$runs" 'BEGIN {
  printf "run -r greet     arunner %.0f ms, ansible-runner %.0f ms, ratio %.2f; median of %d\n", o * 1000, t * 1000, o / t, runs
}'
