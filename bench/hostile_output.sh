#!/usr/bin/env bash
# Issue 10's output bounds, arunner and Debian's ansible-runner side by side in one run:
#   - a task that writes N MB without a newline onto ansible-playbook's terminal (one
#     newline-free line through the event decoder), N = 20 40 80 160: wall time and peak RSS
#     must grow linearly and stay below ansible-runner's;
#   - a 50 MB line with -v (a task whose 50 MB stdout is printed in its result).
# Usage: bench/hostile_output.sh [repetitions]   (default 1)
#   SIZES="20 40 80 160" (MB) and VERBOSE_MB=50 pick the sizes; ARUNNER=path picks the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-1}"
sizes="${SIZES:-20 40 80 160}"
verbose_mb="${VERBOSE_MB:-50}"
arunner=$(realpath "${ARUNNER:-build/arunner}")
work=$(mktemp -d /tmp/arunner-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

# A private data dir whose one task runs `command` on localhost.
make_pdd() {
  local dir="$1" command="$2"
  mkdir -p "$dir/project" "$dir/inventory"
  echo 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3' \
    >"$dir/inventory/hosts"
  cat >"$dir/project/site.yml" <<YAML
- hosts: all
  gather_facts: false
  tasks:
    - name: hostile output
      shell: $command
YAML
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# "seconds max-RSS-KiB" of one run (the runner and everything it started; %M is the largest
# single process).
measure() {
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>&1 || true
  tail -n 1 "$work/time"
}

compare() {  # label pdd [extra args]
  local label="$1" pdd="$2"
  shift 2
  : >"$work/o"; : >"$work/t"
  for ((i = 0; i < reps; i++)); do
    rm -rf "$pdd/artifacts"
    measure "$arunner" run "$pdd" -p site.yml -q --ident ours "$@" >>"$work/o"
    measure /usr/bin/ansible-runner run "$pdd" -p site.yml -q --ident theirs "$@" >>"$work/t"
  done
  local os om ts tm bytes
  os=$(cut -d' ' -f1 <"$work/o" | median); om=$(cut -d' ' -f2 <"$work/o" | median)
  ts=$(cut -d' ' -f1 <"$work/t" | median); tm=$(cut -d' ' -f2 <"$work/t" | median)
  bytes=$(stat -c %s "$pdd/artifacts/ours/stdout")
  awk -v l="$label" -v os="$os" -v om="$om" -v ts="$ts" -v tm="$tm" -v b="$bytes" 'BEGIN {
    printf "%-26s arunner %7.2f s %6.0f MB | ansible-runner %7.2f s %6.0f MB | time %.2fx, RSS %.2fx (ART/stdout %.0f MB)\n",
      l, os, om / 1024, ts, tm / 1024, os / ts, om / tm, b / 1e6
  }'
}

echo "median of $reps; ratios are arunner/ansible-runner"
for mb in $sizes; do
  make_pdd "$work/line-$mb" "head -c $((mb * 1000000)) /dev/zero | tr '\\0' x > /dev/tty"
  compare "$mb MB, no newline" "$work/line-$mb"
done
make_pdd "$work/verbose" "head -c $((verbose_mb * 1000000)) /dev/zero | tr '\\0' x"
compare "$verbose_mb MB line with -v" "$work/verbose" -v
