#!/usr/bin/env bash
# P4 and P6 of issue 3, arunner and Debian's ansible-runner side by side in one run.
#   P4  CPU (user+sys) of the whole job minus bare ansible-playbook, per job event, on a
#       2,000-item debug loop
#   P6  wall time of a task whose -v output is ~27 MB, against bare `ansible-playbook -v`
# Usage: bench/events.sh [repetitions]   (default 3; needs scripts/setup to have run)
#   ARUNNER=path/to/arunner picks the binary (default build/arunner), e.g. another build dir
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-3}"
arunner=$(realpath "${ARUNNER:-build/arunner}")
work=$(mktemp -d /tmp/arunner-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r bench/fixtures/loop-2000 "$work/loop"
cp -r bench/fixtures/big-output "$work/big"
ticks=$(getconf CLK_TCK)

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# CPU milliseconds (user+sys) of a command and everything it started: the subshell's
# cutime+cstime once the command has been reaped.
cpu_ms() {
  ( "$@" >/dev/null 2>&1 || true
    read -r -a f <"/proc/$BASHPID/stat"
    echo $(( (f[15] + f[16]) * 1000 / ticks )) )
}
wall_ms() {
  local start=$EPOCHREALTIME end
  "$@" >/dev/null 2>&1 || true
  end=$EPOCHREALTIME
  echo "$start $end" | awk '{ printf "%.0f\n", ($2 - $1) * 1000 }'
}
bare() { (cd "$1/project" && /usr/bin/ansible-playbook -i ../inventory/hosts site.yml "${@:2}"); }
ours() { "$arunner" run "$1" -p site.yml -q --ident "$2" "${@:3}"; }
theirs() { /usr/bin/ansible-runner run "$1" -p site.yml -q --ident "$2" "${@:3}"; }
events_in() { find "$1/artifacts/$2/job_events" -name '*.json' | wc -l; }

: >"$work/p4b"; : >"$work/p4o"; : >"$work/p4t"
for ((i = 0; i < reps; i++)); do
  rm -rf "$work/loop/artifacts"
  cpu_ms bare "$work/loop" >>"$work/p4b"
  cpu_ms ours "$work/loop" ours >>"$work/p4o"
  cpu_ms theirs "$work/loop" theirs >>"$work/p4t"
done
eo=$(events_in "$work/loop" ours); et=$(events_in "$work/loop" theirs)
b=$(median <"$work/p4b"); o=$(median <"$work/p4o"); t=$(median <"$work/p4t")
awk -v b="$b" -v o="$o" -v t="$t" -v eo="$eo" -v et="$et" -v n="$reps" 'BEGIN {
  po = (o - b) / eo; pt = (t - b) / et
  printf "P4 2,000-item loop, CPU ms (median of %d): bare %d, arunner %d (%d events), ansible-runner %d (%d events)\n", n, b, o, eo, t, et
  printf "P4 CPU per event (ms): arunner %.3f, ansible-runner %.3f, ratio arunner/ansible-runner = %.3f (target <= 0.1)\n", po, pt, po / pt
}'

: >"$work/p6b"; : >"$work/p6o"; : >"$work/p6t"
for ((i = 0; i < reps; i++)); do
  rm -rf "$work/big/artifacts"
  wall_ms bare "$work/big" -v >>"$work/p6b"
  wall_ms ours "$work/big" ours -v >>"$work/p6o"
  wall_ms theirs "$work/big" theirs -v >>"$work/p6t"
done
size=$(stat -c %s "$work/big/artifacts/ours/stdout")
b=$(median <"$work/p6b"); o=$(median <"$work/p6o"); t=$(median <"$work/p6t")
awk -v b="$b" -v o="$o" -v t="$t" -v n="$reps" -v size="$size" 'BEGIN {
  printf "P6 ~%.0f MB of -v output, wall ms (median of %d): bare %d, arunner %d, ansible-runner %d\n", size / 1e6, n, b, o, t
  printf "P6 vs bare ansible-playbook -v: arunner %.2fx (target <= 1.1x), ansible-runner %.2fx\n", o / b, t / b
}'

# P6 with prompts to watch (issue 15): env/passwords holds patterns that never match, so every
# byte of the ~27 MB passes the responder; prompt matching looks only at the output's tail.
cp -r "$work/big" "$work/bigpw"
mkdir -p "$work/bigpw/env"
printf '{"^Vault password:\\\\s*?$": "x", "^BECOME password:\\\\s*?$": "y", "(?i)passphrase.*:\\\\s*?$": "z"}' \
  >"$work/bigpw/env/passwords"
: >"$work/p6po"; : >"$work/p6pt"
for ((i = 0; i < reps; i++)); do
  rm -rf "$work/bigpw/artifacts"
  wall_ms ours "$work/bigpw" ours -v >>"$work/p6po"
  wall_ms theirs "$work/bigpw" theirs -v >>"$work/p6pt"
done
po=$(median <"$work/p6po"); pt=$(median <"$work/p6pt")
awk -v b="$b" -v o="$o" -v po="$po" -v pt="$pt" -v n="$reps" 'BEGIN {
  printf "P6 with 3 env/passwords patterns, wall ms (median of %d): arunner %d, ansible-runner %d\n", n, po, pt
  printf "P6 passwords: arunner with/without %.2fx (target ~1.0), vs bare %.2fx; ratio arunner/ansible-runner = %.3f\n", po / o, po / b, po / pt
}'
