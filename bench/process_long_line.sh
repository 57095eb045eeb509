#!/usr/bin/env bash
# Issue 29's peak memory of `process` on one huge event line: a worker stream whose one event has
# an N MB stdout, into arunner's `process` and Debian's ansible-runner's, side by side in one run
# (and a second arunner binary, e.g. an older build, when BASELINE=path is set). Prints wall time
# and peak RSS of each and the ratios against ansible-runner; checks that both wrote the same
# event file and printed the same stdout.
# Usage: bench/process_long_line.sh [MB]   (default 300); ARUNNER=path picks the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-300}"
arunner=$(realpath "${ARUNNER:-build/arunner}")
work=$(mktemp -d /tmp/arunner-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 - "$mb" "$work/stream" <<'PY'
import json, sys, uuid
mb, path = int(sys.argv[1]), sys.argv[2]
with open(path, 'w') as f:
    f.write(json.dumps({"status": "starting", "runner_ident": "big"}) + "\n")
    f.write(json.dumps({"uuid": str(uuid.uuid4()), "counter": 1, "stdout": "x" * (mb << 20),
                        "start_line": 0, "end_line": 1, "runner_ident": "big", "event": "verbose",
                        "event_data": {}}) + "\n")
    f.write(json.dumps({"status": "successful", "runner_ident": "big"}) + "\n")
    f.write(json.dumps({"eof": True}) + "\n")
PY

run() {  # label binary: prints "label seconds KiB"
  local label="$1" binary="$2"
  rm -rf "$work/pdd-$label"
  mkdir "$work/pdd-$label"
  /usr/bin/time -f "%e %M" -o "$work/time-$label" "$binary" process "$work/pdd-$label" \
    --ident big <"$work/stream" >"$work/out-$label"
  echo "$label $(tail -n 1 "$work/time-$label")"
}

{
  run theirs /usr/bin/ansible-runner
  run ours "$arunner"
  if [ -n "${BASELINE:-}" ]; then run baseline "$(realpath "$BASELINE")"; fi
} >"$work/results"
cmp -s "$work/out-ours" "$work/out-theirs" || { echo "the printed stdout differs" >&2; exit 1; }
cmp -s "$work/pdd-ours/artifacts/big/job_events/"*.json \
  "$work/pdd-theirs/artifacts/big/job_events/"*.json || { echo "the event files differ" >&2; exit 1; }
awk -v mb="$mb" '
  { s[$1] = $2; m[$1] = $3 }
  END {
    printf "one %d MB event line into process (same event file and stdout)\n", mb
    for (k in s) if (k != "theirs")
      printf "%-9s %6.2f s %6.0f MB | ansible-runner %6.2f s %6.0f MB | time %.2fx, RSS %.2fx\n",
        k, s[k], m[k] / 1024, s["theirs"], m["theirs"] / 1024, s[k] / s["theirs"], m[k] / m["theirs"]
  }' "$work/results"
