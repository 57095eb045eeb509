#!/usr/bin/env bash
# P8 of issue 12, side by side in one run: a ten-task job (one host) run by a worker inside the
# localhost/arunner-ee container, the controller on the host.
#   arunner         `arunner run --container-worker`: transmit, the worker container through a
#                   private `podman system service` socket, the processor in-process
#   ansible-runner  its own pipeline on the same image:
#                   ansible-runner transmit | podman run -i --rm IMG ansible-runner worker |
#                   ansible-runner process
# Also the same pipeline with arunner in all three roles, and bare ansible-playbook on the host.
# Usage: bench/container_worker.sh [repetitions]   (default 7; needs scripts/setup to have run)
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-7}"
# shellcheck source=bench/podman_service.sh
source bench/podman_service.sh
cp -r bench/fixtures/ten-tasks "$work/pdd"

bare() { (cd "$work/pdd/project" && /usr/bin/ansible-playbook -i ../inventory/hosts site.yml); }
ours() {
  "$arunner" run "$work/pdd" -p site.yml -q --ident "$1" --container-worker \
    --container-image "$image" --container-engine-socket "$socket"
}
theirs() {
  /usr/bin/ansible-runner transmit "$work/pdd" -p site.yml --ident "$1" |
    podman run -i --rm "$image" ansible-runner worker |
    /usr/bin/ansible-runner process "$work/pdd" --ident "$1"
}
ours_by_hand() {
  "$arunner" transmit "$work/pdd" -p site.yml --ident "$1" |
    podman run -i --rm "$image" arunner worker |
    "$arunner" process "$work/pdd" --ident "$1"
}
check() {
  local art="$work/pdd/artifacts/$1"
  [ "$(cat "$art/status" 2>/dev/null)" = successful ] || { echo "$2 $1: $(cat "$art/status" 2>/dev/null || echo 'no status')" >&2; exit 1; }
}

# Warm caches (image layers, Python bytecode) once.
bare >/dev/null 2>&1; ours warm >/dev/null 2>&1; theirs warmt >/dev/null 2>&1
: >"$work/b"; : >"$work/o"; : >"$work/t"; : >"$work/h"
for ((i = 0; i < reps; i++)); do
  s=$(now_ms); bare >/dev/null 2>&1 || true; e=$(now_ms); diff_ms "$e" "$s" >>"$work/b"
  s=$(now_ms); ours "o$i" >/dev/null 2>&1 || true; e=$(now_ms); diff_ms "$e" "$s" >>"$work/o"
  check "o$i" arunner
  s=$(now_ms); theirs "t$i" >/dev/null 2>&1 || true; e=$(now_ms); diff_ms "$e" "$s" >>"$work/t"
  check "t$i" ansible-runner
  s=$(now_ms); ours_by_hand "h$i" >/dev/null 2>&1 || true; e=$(now_ms); diff_ms "$e" "$s" >>"$work/h"
  check "h$i" "arunner pipeline"
done
left=$(podman ps -a --format '{{.Names}}' | grep -c '^ansible_runner_' || true)
b=$(median <"$work/b"); o=$(median <"$work/o"); t=$(median <"$work/t"); h=$(median <"$work/h")
events_o=$(ls "$work/pdd/artifacts/o0/job_events" | wc -l)
events_t=$(ls "$work/pdd/artifacts/t0/job_events" | wc -l)
awk -v b="$b" -v o="$o" -v t="$t" -v h="$h" -v n="$reps" -v eo="$events_o" -v et="$events_t" \
  -v left="$left" 'BEGIN {
  printf "P8 ten tasks by a worker in %s, wall ms (median of %d): bare ansible-playbook on the host %.0f\n", "localhost/arunner-ee", n, b
  printf "P8   arunner run --container-worker %.0f; ansible-runner transmit|podman run|process %.0f; arunner transmit|podman run|process %.0f\n", o, t, h
  printf "P8 arunner/ansible-runner wall time = %.3f (target <= 0.6); events %d and %d; containers left: %d\n", o / t, eo, et, left
}'
