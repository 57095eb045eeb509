# Sourced by the container benchmarks: the binary and image under test, a work dir, a private
# `podman system service` on a socket in it (stopped and removed on exit), and the timing
# helpers. Sets: arunner (ARUNNER overrides build/arunner), image, work, socket, service.
arunner="${ARUNNER:-$PWD/build/arunner}"
image=localhost/arunner-ee
work=$(mktemp -d /tmp/arunner-bench-XXXXXX)
socket="$work/podman.sock"
podman system service --time=0 "unix://$socket" >"$work/service.log" 2>&1 &
service=$!
trap 'kill $service 2>/dev/null; wait $service 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.1; done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now_ms() { echo "${EPOCHREALTIME/./}" | awk '{ printf "%.1f\n", $1 / 1000 }'; }
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", a - b }'; }
