#!/usr/bin/env bash
# scripts/check-includes on a copy of the tree: it passes as the tree is, and refuses each arrow
# planted against the rule in ARCHITECTURE.md, naming the file, the line and the arrow.
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$source_dir/src" "$source_dir/python" "$source_dir/include" "$source_dir/ARCHITECTURE.md" \
  "$work/"
check="$source_dir/scripts/check-includes"
failures=0

"$check" "$work" || { echo "FAIL: the tree as it is must pass"; exit 1; }

# plant FILE LINE EXPECTED: appends LINE to FILE, expects the check to fail with EXPECTED in its
# output, then restores FILE.
plant() {
  local file=$work/$1 line=$2 expected=$3 out status=0
  cp "$file" "$file.orig"
  echo "$line" >>"$file"
  out=$("$check" "$work" 2>&1) || status=$?
  mv "$file.orig" "$file"
  if [ "$status" -ne 1 ]; then
    echo "FAIL: '$line' in $1: exit $status, not 1"
    failures=$((failures + 1))
  elif ! grep -qF -- "$expected" <<<"$out"; then
    echo "FAIL: '$line' in $1: the output does not say '$expected':"
    echo "$out"
    failures=$((failures + 1))
  else
    echo "ok: $1 refused ($expected)"
  fi
}

lines=$(($(wc -l <"$work/src/stream/wire.cpp") + 1))
plant src/stream/wire.cpp '#include "runner/local_job.hpp"' \
  "src/stream/wire.cpp:$lines: stream -> runner is not in the dependency rule"
plant src/stream/processor.cpp '#include "arunner/runner.hpp"' "stream -> api"
plant src/cli/main.cpp '#include "config/env_file.hpp"' "cli -> config"
plant python/py_kwargs.cpp '#include "stream/job_kwargs.hpp"' "python -> stream"
plant src/util/files.cpp '#include "exec/supervisor.hpp"' "util -> exec"
plant src/exec/supervisor.cpp '#include "isolation/container_job.hpp"' "exec -> isolation"
plant src/engine/attach_stream.cpp '  #  include "cli/commands.hpp"' "engine -> cli"
mkdir "$work/src/newfolder"
echo '#include "util/files.hpp"' >"$work/src/newfolder/thing.cpp"
status=0
out=$("$check" "$work" 2>&1) || status=$?
if [ "$status" -ne 1 ] || ! grep -qF "the folder newfolder/ is not in the dependency rule" <<<"$out"; then
  echo "FAIL: a folder the rule does not name must be refused (exit $status): $out"
  failures=$((failures + 1))
fi
rm -r "$work/src/newfolder"
"$check" "$work" || { echo "FAIL: the restored tree must pass again"; exit 1; }
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "check-includes refuses every planted arrow"
