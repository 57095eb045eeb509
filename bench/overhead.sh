#!/usr/bin/env bash
# P1 and P2 of issue 2, arunner and Debian's ansible-runner side by side in one run.
#   P1  fixed overhead: a one-task play under the runner minus bare ansible-playbook (medians)
#   P2  `--version` wall time
# Usage: bench/overhead.sh [repetitions]   (default 15; needs scripts/setup to have run)
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-15}"
arunner="$PWD/build/arunner"
work=$(mktemp -d /tmp/arunner-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r bench/fixtures/one-task "$work/pdd"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Wall milliseconds of one run, output discarded. EPOCHREALTIME is a bash builtin, so the
# clock costs no process of its own.
time_ms() {
  local start=$EPOCHREALTIME end
  "$@" >/dev/null 2>&1 || true
  end=$EPOCHREALTIME
  echo "$start $end" | awk '{ printf "%.2f\n", ($2 - $1) * 1000 }'
}

bare() { (cd "$work/pdd/project" && /usr/bin/ansible-playbook -i ../inventory/hosts site.yml); }
ours() { "$arunner" run "$work/pdd" -p site.yml -q; }
theirs() { /usr/bin/ansible-runner run "$work/pdd" -p site.yml -q; }

# Warm the page cache and Python's bytecode caches once.
bare >/dev/null 2>&1; ours >/dev/null 2>&1; theirs >/dev/null 2>&1

: >"$work/bare"; : >"$work/ours"; : >"$work/theirs"
for ((i = 0; i < reps; i++)); do  # interleaved, so drift hits all three alike
  time_ms bare >>"$work/bare"
  time_ms ours >>"$work/ours"
  time_ms theirs >>"$work/theirs"
  rm -rf "$work/pdd/artifacts"
done
b=$(median <"$work/bare"); o=$(median <"$work/ours"); t=$(median <"$work/theirs")

: >"$work/vo"; : >"$work/vt"
for ((i = 0; i < reps * 2; i++)); do
  time_ms "$arunner" --version >>"$work/vo"
  time_ms /usr/bin/ansible-runner --version >>"$work/vt"
done
vo=$(median <"$work/vo"); vt=$(median <"$work/vt")

awk -v b="$b" -v o="$o" -v t="$t" -v vo="$vo" -v vt="$vt" -v n="$reps" 'BEGIN {
  oo = o - b; to = t - b
  printf "P1 one-task play, median of %d (ms): bare ansible-playbook %.0f, arunner %.0f, ansible-runner %.0f\n", n, b, o, t
  printf "P1 fixed overhead (ms): arunner %.1f, ansible-runner %.1f, ratio arunner/ansible-runner = %.3f (target <= 0.1)\n", oo, to, (to > 0 ? oo / to : 0)
  printf "P2 --version, median of %d (ms): arunner %.1f, ansible-runner %.1f, ratio = %.4f (target <= 0.05)\n", n * 2, vo, vt, vo / vt
}'
