#!/usr/bin/env bash
# The bwrap sandbox and directory isolation (issue 18) side by side with Debian's ansible-runner
# 2.3.1, in one run:
#   (a) tests/fixtures/sandbox's play (eight shell tasks) in the sandbox with the same hidden,
#       shown and read-only paths: arunner with bwrap, ansible-runner with bwrap-lib (bwrap plus
#       the /lib symlink 2.3.1 forgets, without which ansible-playbook cannot start on Debian 12);
#       also arunner without the sandbox, for the sandbox's own cost
#   (b) the same with directory isolation of a project of FILES files (default 4000, 20 KiB
#       each): arunner's copy and removal against Python's copytree and rmtree of the same tree
# Each figure is the median of RUNS runs (default 5), the runners alternating.
# Usage: bench/sandbox.sh   Environment: ARUNNER (default build/arunner), RUNS, FILES.
set -euo pipefail
cd "$(dirname "$0")/.."
arunner="$(realpath "${ARUNNER:-build/arunner}")"
runs="${RUNS:-5}"
files="${FILES:-4000}"
work=$(mktemp -d /tmp/arunner-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
seconds() { # wall seconds of a command, its output discarded; a failure stops the benchmark
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f\n", e - s }'
}
printf '#!/bin/sh\nexec bwrap --symlink usr/lib /lib "$@"\n' >"$work/bwrap-lib"
chmod +x "$work/bwrap-lib"
mkdir -p "$work/shown" "$work/ro" "$work/unlisted" "$work/base"
echo shown-data >"$work/shown/data"
echo ro-data >"$work/ro/data"
make_pdd() { # $1: where
  rm -rf "$1"
  cp -r tests/fixtures/sandbox "$1"
  mkdir -p "$1/env"
  printf '{"shown": "%s", "ro": "%s", "unlisted": "%s", "pdd": "%s"}' \
    "$work/shown" "$work/ro" "$work/unlisted" "$1" >"$1/env/extravars"
}
paths=(--process-isolation-hide-paths /etc/debian_version /usr/share/common-licenses
  --process-isolation-show-paths "$work/shown" --process-isolation-ro-paths "$work/ro")

o=() t=() p=()
for ((r = 0; r < runs; r++)); do
  make_pdd "$work/ours"
  make_pdd "$work/theirs"
  make_pdd "$work/plain"
  o+=("$(seconds "$arunner" run "$work/ours" -p site.yml -q --process-isolation \
    --process-isolation-executable bwrap "${paths[@]}")")
  t+=("$(seconds ansible-runner run "$work/theirs" -p site.yml -q --process-isolation \
    --process-isolation-executable "$work/bwrap-lib" "${paths[@]}")")
  p+=("$(seconds "$arunner" run "$work/plain" -p site.yml -q)")
  rm -f "$work/shown/written"
done
awk -v o="$(median "${o[@]}")" -v t="$(median "${t[@]}")" -v p="$(median "${p[@]}")" -v runs="$runs" 'BEGIN {
  printf "sandboxed play           arunner %.0f ms, ansible-runner %.0f ms, ratio %.2f; arunner without the sandbox %.0f ms (sandbox cost %+.0f ms); median of %d\n", o * 1000, t * 1000, o / t, p * 1000, (o - p) * 1000, runs
}'

# (b) a project of $files files in 40 directories, isolated into a copy under $work/base.
#     ansible-runner 2.3.1 cannot isolate a directory at all (with a sandbox its copytree fails
#     on the directory mkdtemp just made; without one it deletes the base), so the copy is
#     compared with what its HEAD does: shutil.copytree(symlinks=True) then shutil.rmtree.
make_project() { # $1: the pdd
  local d f
  for ((d = 0; d < 40; d++)); do mkdir -p "$1/project/dir$d"; done
  head -c 20480 /dev/urandom >"$work/blob"
  for ((f = 0; f < files; f++)); do cp "$work/blob" "$1/project/dir$((f % 40))/file$f"; done
}
make_pdd "$work/di"
make_project "$work/di"
o=() p=() c=()
for ((r = 0; r < runs; r++)); do
  rm -rf "$work/di/artifacts"
  o+=("$(seconds "$arunner" run "$work/di" -p site.yml -q --process-isolation \
    --process-isolation-executable bwrap "${paths[@]}" --directory-isolation-base-path "$work/base")")
  rm -rf "$work/di/artifacts"
  p+=("$(seconds "$arunner" run "$work/di" -p site.yml -q --process-isolation \
    --process-isolation-executable bwrap "${paths[@]}")")
  c+=("$(seconds /usr/bin/python3 -c 'import shutil, sys, tempfile
d = tempfile.mkdtemp(prefix="runner_di_", dir=sys.argv[2])
shutil.copytree(sys.argv[1], d, symlinks=True, dirs_exist_ok=True)
shutil.rmtree(d)' "$work/di/project" "$work/base")")
  rm -f "$work/shown/written"
done
size=$(du -sm "$work/di/project" | cut -f1)
awk -v o="$(median "${o[@]}")" -v p="$(median "${p[@]}")" -v c="$(median "${c[@]}")" -v runs="$runs" -v files="$files" -v size="$size" 'BEGIN {
  printf "directory isolation      arunner run %.0f ms, without it %.0f ms: copy and removal %.0f ms; Python copytree+rmtree (ansible-runner HEAD) %.0f ms, ratio %.2f (project of %d files, %d MB); median of %d\n", o * 1000, p * 1000, (o - p) * 1000, c * 1000, (o - p) / c, files, size, runs
}'
if [ -n "$(ls -A "$work/base")" ]; then
  echo "left in the base: $(ls "$work/base" | head -3)" >&2
  exit 1
fi
