#!/usr/bin/env bash
# P9 of issue 13, arunner and Debian's ansible-runner side by side in one run, on a machine where
# no engine service runs: a small job (one host, ten tasks) with --process-isolation on
# localhost/arunner-ee.
#   ansible-runner            the podman CLI (`podman run --rm ...`), which needs no service
#   arunner, embedded         no socket configured: arunner starts and stops its own
#                             `podman system service` for the run
#   arunner, running service  a private service started once, named with --container-engine-socket
# With DOCKERD=1, the same against a private dockerd (tests/support/dockerd-fixture starts it and
# loads the image): ansible-runner's docker CLI against arunner's docker dialect.
# Usage: bench/engines.sh [repetitions]   (default 7; needs scripts/setup to have run)
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-7}"
# shellcheck source=bench/podman_service.sh
source bench/podman_service.sh
cp -r bench/fixtures/ten-tasks "$work/pdd"

embedded() {
  env -u CONTAINER_HOST -u DOCKER_HOST TMPDIR="$work" "$arunner" run "$work/pdd" -p site.yml -q \
    --ident "$1" --process-isolation --container-image "$image"
}
service() {
  "$arunner" run "$work/pdd" -p site.yml -q --ident "$1" --process-isolation \
    --container-image "$image" --container-engine-socket "$socket"
}
theirs() {
  /usr/bin/ansible-runner run "$work/pdd" -p site.yml -q --ident "$1" --process-isolation \
    --process-isolation-executable podman --container-image "$image"
}
# A cleanup that needs an engine and finds none: the service's own start and stop.
cleanup_embedded() {
  env -u CONTAINER_HOST -u DOCKER_HOST TMPDIR="$work" "$arunner" worker cleanup --containers
}
cleanup_service() { CONTAINER_HOST="unix://$socket" "$arunner" worker cleanup --containers; }

time_into() { # file command...
  local file=$1 s e
  shift
  s=$(now_ms); "$@" >/dev/null 2>&1 || true; e=$(now_ms); diff_ms "$e" "$s" >>"$file"
}
check() { [ "$(cat "$work/pdd/artifacts/$1/status")" = successful ] || { echo "run $1: $(cat "$work/pdd/artifacts/$1/status")" >&2; exit 1; }; }

embedded warm >/dev/null 2>&1; theirs warm >/dev/null 2>&1; service warm >/dev/null 2>&1
: >"$work/e"; : >"$work/s"; : >"$work/t"; : >"$work/ce"; : >"$work/cs"
for ((i = 0; i < reps; i++)); do
  time_into "$work/t" theirs "t$i"; check "t$i"
  time_into "$work/e" embedded "e$i"; check "e$i"
  time_into "$work/s" service "s$i"; check "s$i"
  time_into "$work/ce" cleanup_embedded
  time_into "$work/cs" cleanup_service
done
left_services=$(pgrep -fc "podman system service.*$work/arunner-podman-" || true)
left=$(podman ps -a --format '{{.Names}}' | grep -c '^ansible_runner_' || true)
e=$(median <"$work/e"); s=$(median <"$work/s"); t=$(median <"$work/t")
ce=$(median <"$work/ce"); cs=$(median <"$work/cs")
awk -v e="$e" -v s="$s" -v t="$t" -v ce="$ce" -v cs="$cs" -v n="$reps" -v left="$left" \
  -v ls="$left_services" 'BEGIN {
  printf "P9 ten tasks, --process-isolation, no engine service running, wall ms (median of %d): ansible-runner (podman CLI) %.0f, arunner embedded service %.0f, arunner with a running service %.0f\n", n, t, e, s
  printf "P9 arunner embedded / ansible-runner = %.3f; arunner running service / ansible-runner = %.3f\n", e / t, s / t
  printf "P9 the embedded service costs %.0f ms a run (worker cleanup --containers: %.0f ms embedded, %.0f ms on a running service)\n", ce - cs, ce, cs
  printf "P9 left behind: %d containers, %d embedded services\n", left, ls
}'

if [ "${DOCKERD:-0}" = 1 ]; then
  ddir="$work/dockerd"
  tests/support/dockerd-fixture start "$ddir" >/dev/null
  trap 'tests/support/dockerd-fixture stop "$ddir" >/dev/null 2>&1; kill $service 2>/dev/null; wait $service 2>/dev/null; rm -rf "$work"' EXIT
  dsock="$ddir/docker.sock"
  docker_ours() {
    "$arunner" run "$work/pdd" -p site.yml -q --ident "$1" --process-isolation \
      --process-isolation-executable docker --container-image "$image" --container-engine-socket "$dsock"
  }
  # ansible-runner runs `docker` from PATH: Debian's client, pointed at the private dockerd.
  docker_theirs() {
    PATH=/usr/bin:$PATH DOCKER_HOST="unix://$dsock" /usr/bin/ansible-runner run "$work/pdd" -p site.yml \
      -q --ident "$1" --process-isolation --process-isolation-executable docker --container-image "$image"
  }
  docker_ours dwarm >/dev/null 2>&1; docker_theirs dtwarm >/dev/null 2>&1
  : >"$work/do"; : >"$work/dt"
  for ((i = 0; i < reps; i++)); do
    time_into "$work/dt" docker_theirs "dt$i"; check "dt$i"
    time_into "$work/do" docker_ours "do$i"; check "do$i"
  done
  do_=$(median <"$work/do"); dt=$(median <"$work/dt")
  awk -v o="$do_" -v t="$dt" -v n="$reps" 'BEGIN {
    printf "P9 docker: ten tasks, wall ms (median of %d): ansible-runner (docker CLI) %.0f, arunner (REST) %.0f; ratio %.3f\n", n, t, o, o / t
  }'
fi
