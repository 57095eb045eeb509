#!/usr/bin/env bash
# Daemon mode (issue 15), arunner and Debian's ansible-runner side by side in one run, on a play
# whose one task sleeps (a marker number makes each run's processes findable):
#   D1  `start` wall time until the launching process returns
#   D2  `stop` wall time of a running job
#   D3  processes of the job still alive right after `stop` returned (ansible-runner 2.3.1 kills
#       only the daemon's process group; ansible-playbook and its modules live in the pty's
#       session and survive), and whether ART/status says canceled
# Usage: bench/daemon.sh [repetitions]   (default 5; needs scripts/setup to have run)
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-5}"
arunner=$(realpath "${ARUNNER:-build/arunner}")
work=$(mktemp -d /tmp/arunner-bench-XXXXXX)
cleanup() {
  pkill -KILL -f "sleep 77[0-9][0-9]" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wall_ms() {
  local start=$EPOCHREALTIME end
  "$@" >/dev/null 2>&1 || true
  end=$EPOCHREALTIME
  echo "$start $end" | awk '{ printf "%.1f\n", ($2 - $1) * 1000 }'
}
# A private data dir whose task runs `sleep <marker>`.
make_pdd() {
  mkdir -p "$1/project" "$1/inventory"
  echo 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3' >"$1/inventory/hosts"
  printf -- '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep %s\n' "$2" >"$1/project/site.yml"
}
# Waits (at most 60 s) until the task's sleep runs.
await_sleep() {
  for _ in $(seq 600); do
    pgrep -f "^sleep $1\$" >/dev/null && return 0
    sleep 0.1
  done
  echo "bench: the job's sleep $1 never started" >&2
  return 1
}
# Processes of the job left: the sleep and any ansible-playbook whose cwd is the run's project.
left_of() {
  local n
  n=$({ pgrep -f "sleep $1\$" || true; } | wc -l)
  for pid in $(pgrep -f ansible-playbook || true); do
    if [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$2/project" ]; then n=$((n + 1)); fi
  done
  echo "$n"
}

: >"$work/so"; : >"$work/st"; : >"$work/po"; : >"$work/pt"; : >"$work/lo"; : >"$work/lt"
statuses_o=""; statuses_t=""
marker=7700
for ((i = 0; i < reps; i++)); do
  for who in o t; do
    marker=$((marker + 1))
    pdd="$work/$who$i"
    make_pdd "$pdd" "$marker"
    if [ "$who" = o ]; then exe="$arunner"; else exe=/usr/bin/ansible-runner; fi
    wall_ms "$exe" start "$pdd" -p site.yml --ident d >>"$work/s$who"
    await_sleep "$marker"
    wall_ms "$exe" stop "$pdd" >>"$work/p$who"
    left_of "$marker" "$pdd" >>"$work/l$who"
    status=$(cat "$pdd/artifacts/d/status" 2>/dev/null || echo none)
    if [ "$who" = o ]; then statuses_o+="$status "; else statuses_t+="$status "; fi
    pkill -KILL -f "sleep $marker\$" 2>/dev/null || true
  done
done
so=$(median <"$work/so"); st=$(median <"$work/st"); po=$(median <"$work/po"); pt=$(median <"$work/pt")
lo=$(awk '{ s += $1 } END { print s + 0 }' "$work/lo"); lt=$(awk '{ s += $1 } END { print s + 0 }' "$work/lt")
awk -v so="$so" -v st="$st" -v n="$reps" 'BEGIN {
  printf "D1 start, wall ms (median of %d): arunner %.1f, ansible-runner %.1f, ratio arunner/ansible-runner = %.3f\n", n, so, st, so / st }'
awk -v po="$po" -v pt="$pt" -v n="$reps" 'BEGIN {
  printf "D2 stop of a running job, wall ms (median of %d): arunner %.1f, ansible-runner %.1f, ratio = %.3f\n", n, po, pt, po / pt }'
echo "D3 processes of the job alive after stop (sum over $reps runs): arunner $lo, ansible-runner $lt"
echo "D3 ART/status after stop: arunner: ${statuses_o}| ansible-runner: ${statuses_t}"
