#!/usr/bin/env bash
# P10 of issue 14, arunner and Debian's ansible-runner side by side in one run: a small job (one
# host, ten tasks) with --process-isolation on podman, its image in a private registry on
# 127.0.0.1 (tests/support/registry-fixture: TLS with a self-signed certificate, htpasswd
# credentials) given as container_auth_data in env/settings with verify_ssl: false.
#   --pull=always    every run asks the registry (the layers are local: manifest and config)
#   --pull=missing   the image is present: no registry traffic
#   untagged first   the tag is removed before each run, so --pull=missing pulls it
# ansible-runner runs `podman run --pull=... --authfile=<its auth.json>`; arunner pulls through
# the REST API of its embedded podman service.
# Usage: bench/pulls.sh [repetitions]   (default 5; needs scripts/setup to have run)
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-5}"
# shellcheck source=bench/podman_service.sh
source bench/podman_service.sh
registry="$work/registry"
tests/support/registry-fixture start "$registry" >/dev/null
trap 'untag; tests/support/registry-fixture stop "$registry" >/dev/null 2>&1; kill $service 2>/dev/null; wait $service 2>/dev/null; rm -rf "$work"' EXIT
address=$(cat "$registry/address")
pulled="$address/arunner/ee:latest"
# Only this name: `podman untag IMAGE` alone would remove every name of the image.
untag() { podman untag "$pulled" "$pulled" >/dev/null 2>&1 || true; }
cp -r bench/fixtures/ten-tasks "$work/pdd"
mkdir -p "$work/pdd/env"
printf 'container_auth_data:\n  host: %s\n  username: arunner\n  password: %s\n  verify_ssl: false\n' \
  "$address" "$(cat "$registry/password")" >"$work/pdd/env/settings"

ours() { # ident policy
  "$arunner" run "$work/pdd" -p site.yml -q --ident "$1" --process-isolation \
    --container-image "$pulled" --container-engine-socket "$socket" --container-option="--pull=$2"
}
theirs() { # ident policy
  /usr/bin/ansible-runner run "$work/pdd" -p site.yml -q --ident "$1" --process-isolation \
    --process-isolation-executable podman --container-image "$pulled" --container-option="--pull=$2"
}
time_into() { # file command...
  local file=$1 s e
  shift
  s=$(now_ms); "$@" >/dev/null 2>&1 || true; e=$(now_ms); diff_ms "$e" "$s" >>"$file"
}
check() { [ "$(cat "$work/pdd/artifacts/$1/status")" = successful ] || { echo "run $1: $(cat "$work/pdd/artifacts/$1/status" 2>/dev/null || echo none)" >&2; exit 1; }; }

ours warm always >/dev/null 2>&1; check warm; theirs twarm always >/dev/null 2>&1; check twarm
for f in oa ta om tm ou tu; do : >"$work/$f"; done
for ((i = 0; i < reps; i++)); do
  time_into "$work/ta" theirs "ta$i" always; check "ta$i"
  time_into "$work/oa" ours "oa$i" always; check "oa$i"
  time_into "$work/tm" theirs "tm$i" missing; check "tm$i"
  time_into "$work/om" ours "om$i" missing; check "om$i"
  untag; time_into "$work/tu" theirs "tu$i" missing; check "tu$i"
  untag; time_into "$work/ou" ours "ou$i" missing; check "ou$i"
done
auth_files=$(find /tmp -maxdepth 1 -name 'ansible_runner_registry_*' 2>/dev/null | wc -l)
left=$(podman ps -a --format '{{.Names}}' | grep -c '^ansible_runner_' || true)
awk -v oa="$(median <"$work/oa")" -v ta="$(median <"$work/ta")" \
  -v om="$(median <"$work/om")" -v tm="$(median <"$work/tm")" \
  -v ou="$(median <"$work/ou")" -v tu="$(median <"$work/tu")" -v n="$reps" -v left="$left" \
  -v af="$auth_files" 'BEGIN {
  printf "P10 ten tasks from a private registry (TLS, htpasswd), podman, wall ms (median of %d): ansible-runner / arunner\n", n
  printf "P10 --pull=always     %6.0f / %6.0f  ratio arunner/ansible-runner = %.3f\n", ta, oa, oa / ta
  printf "P10 --pull=missing    %6.0f / %6.0f  ratio = %.3f (image present)\n", tm, om, om / tm
  printf "P10 tag removed first %6.0f / %6.0f  ratio = %.3f (pulled; layers local)\n", tu, ou, ou / tu
  printf "P10 left behind: %d containers; ansible-runner auth dirs in /tmp: %d\n", left, af
}'
