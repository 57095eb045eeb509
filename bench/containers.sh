#!/usr/bin/env bash
# P7 of issue 6, arunner and Debian's ansible-runner side by side in one run: a small job (one
# host, ten tasks) with --process-isolation on the same image (localhost/arunner-ee).
#   arunner         REST calls to a private `podman system service` socket
#   ansible-runner  the podman CLI (`podman run --rm ...`), as it always does
# Also: start-to-first-event and container-create-to-first-event latency, the podman service's
# CPU during arunner's runs, and `arunner --version` / a local one-task run for comparison.
# Usage: bench/containers.sh [repetitions]   (default 7; needs scripts/setup to have run)
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-7}"
# shellcheck source=bench/podman_service.sh
source bench/podman_service.sh
cp -r bench/fixtures/ten-tasks "$work/pdd"
cp -r bench/fixtures/one-task "$work/one"

# Modification time of a file in ms since the epoch.
mtime_ms() { stat -c %.3Y "$1" | awk '{ printf "%.1f\n", $1 * 1000 }'; }
first_event() { ls "$1"/job_events/1-*.json 2>/dev/null | head -1; }
service_cpu_ms() { read -r -a f <"/proc/$service/stat"; echo $(((f[13] + f[14]) * 1000 / $(getconf CLK_TCK))); }

bare() { (cd "$work/pdd/project" && /usr/bin/ansible-playbook -i ../inventory/hosts site.yml); }
ours() {
  "$arunner" run "$work/pdd" -p site.yml -q --ident "$1" --process-isolation \
    --container-image "$image" --container-engine-socket "$socket"
}
theirs() {
  /usr/bin/ansible-runner run "$work/pdd" -p site.yml -q --ident "$1" --process-isolation \
    --process-isolation-executable podman --container-image "$image"
}

# Warm caches (image layers, Python bytecode) once.
bare >/dev/null 2>&1; ours warm >/dev/null 2>&1; theirs warm >/dev/null 2>&1
: >"$work/b"; : >"$work/o"; : >"$work/t"; : >"$work/of"; : >"$work/tf"; : >"$work/oc"; : >"$work/cpu"
for ((i = 0; i < reps; i++)); do
  s=$(now_ms); bare >/dev/null 2>&1 || true; e=$(now_ms); diff_ms "$e" "$s" >>"$work/b"
  c0=$(service_cpu_ms)
  s=$(now_ms); ours "o$i" >/dev/null 2>&1 || true; e=$(now_ms); diff_ms "$e" "$s" >>"$work/o"
  diff_ms "$(service_cpu_ms)" "$c0" >>"$work/cpu"
  art="$work/pdd/artifacts/o$i"
  diff_ms "$(mtime_ms "$(first_event "$art")")" "$s" >>"$work/of"
  diff_ms "$(mtime_ms "$(first_event "$art")")" "$(mtime_ms "$art/container_id")" >>"$work/oc"
  [ "$(cat "$art/status")" = successful ] || { echo "arunner run o$i: $(cat "$art/status")" >&2; exit 1; }
  s=$(now_ms); theirs "t$i" >/dev/null 2>&1 || true; e=$(now_ms); diff_ms "$e" "$s" >>"$work/t"
  art="$work/pdd/artifacts/t$i"
  diff_ms "$(mtime_ms "$(first_event "$art")")" "$s" >>"$work/tf"
  [ "$(cat "$art/status")" = successful ] || { echo "ansible-runner run t$i: $(cat "$art/status")" >&2; exit 1; }
done
left=$(podman ps -a --format '{{.Names}}' | grep -c '^ansible_runner_' || true)
b=$(median <"$work/b"); o=$(median <"$work/o"); t=$(median <"$work/t")
of=$(median <"$work/of"); tf=$(median <"$work/tf"); oc=$(median <"$work/oc"); cpu=$(median <"$work/cpu")
events=$(ls "$work/pdd/artifacts/o0/job_events" | wc -l)
awk -v b="$b" -v o="$o" -v t="$t" -v n="$reps" -v of="$of" -v tf="$tf" -v oc="$oc" -v cpu="$cpu" \
  -v events="$events" -v left="$left" 'BEGIN {
  printf "P7 ten tasks in %s, wall ms (median of %d): bare ansible-playbook on the host %.0f, arunner %.0f, ansible-runner %.0f\n", "localhost/arunner-ee", n, b, o, t
  printf "P7 arunner/ansible-runner wall time = %.3f (target <= 0.7); %d events each run; containers left: %d\n", o / t, events, left
  printf "P7 start to first event ms: arunner %.0f, ansible-runner %.0f; arunner container create to first event %.0f ms\n", of, tf, oc
  printf "P7 podman service CPU per arunner run: %.0f ms\n", cpu
}'

# The engine client is linked into the one binary: --version and local runs stay as they were.
if command -v hyperfine >/dev/null; then
  hyperfine -N -w 3 -r 30 --export-json "$work/v.json" "$arunner --version" >/dev/null 2>&1
  awk '/"median"/ { gsub(/[",]/, "", $2); printf "arunner --version median %.1f ms\n", $2 * 1000; exit }' "$work/v.json"
fi
: >"$work/l"
for ((i = 0; i < reps; i++)); do
  s=$(now_ms); "$arunner" run "$work/one" -p site.yml -q >/dev/null 2>&1 || true; e=$(now_ms)
  diff_ms "$e" "$s" >>"$work/l"
done
echo "local one-task run, arunner wall ms (median of $reps): $(median <"$work/l")"
