#!/usr/bin/env bash
# `cmake --install` puts the module where the Python looks (ctest python.install): installs the
# build into a fresh DESTDIR, then imports arunner from the install dir (and only from there) and
# checks the callback plugin and the binary were installed beside it.
# Usage: install_check.sh BUILD_DIR PYTHON_INSTALL_DIR PYTHON INSTALL_PREFIX
set -euo pipefail
build=$1 site=$2 python=$3 prefix=$4
dest=$(mktemp -d /tmp/arunner-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT
DESTDIR="$dest" cmake --install "$build" >/dev/null
test -x "$dest$prefix/bin/arunner"
test -f "$dest$prefix/share/arunner/callback/awx_display.py"
cd "$dest"
PYTHONPATH="$dest$site" "$python" -c '
import sys, arunner
assert arunner.__file__.startswith(sys.argv[1]), arunner.__file__
assert callable(arunner.run) and issubclass(arunner.ConfigurationError, arunner.AnsibleRunnerException)
print("installed:", arunner.__file__)
' "$dest$site"
