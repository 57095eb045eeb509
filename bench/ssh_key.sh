#!/usr/bin/env bash
# ssh keys (issue 15), arunner and Debian's ansible-runner side by side in one run: a one-task
# play over ssh to a private sshd on 127.0.0.1 (started here, stopped by pid), the key only in
# env/ssh_key (loaded through a FIFO into a per-run ssh-agent).
#   K1  wall time of the run
#   K2  ssh-agent processes still alive right after the run returned (ansible-runner's agent
#       notices its parent is gone only at its next 10 s check)
# Usage: bench/ssh_key.sh [repetitions]   (default 5; needs scripts/setup to have run)
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-5}"
arunner=$(realpath "${ARUNNER:-build/arunner}")
work=$(mktemp -d /tmp/arunner-bench-XXXXXX)
sshd_pid=""
cleanup() {
  [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wall_ms() {
  local start=$EPOCHREALTIME end
  "$@" >/dev/null 2>&1 || true
  end=$EPOCHREALTIME
  echo "$start $end" | awk '{ printf "%.0f\n", ($2 - $1) * 1000 }'
}

mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/host" -C bench
ssh-keygen -q -t ed25519 -N '' -f "$work/client" -C bench
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $work/host
PidFile $work/sshd.pid
AuthorizedKeysFile $work/client.pub
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
CONF
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
sshd_pid=$!
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
  sleep 0.1
done

make_pdd() {
  mkdir -p "$1/project" "$1/inventory" "$1/env" "$1/home"
  echo "target ansible_host=127.0.0.1 ansible_port=$port ansible_user=root ansible_python_interpreter=/usr/bin/python3 ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' ansible_ssh_args='-o ControlMaster=no'" >"$1/inventory/hosts"
  printf -- '- hosts: target\n  gather_facts: false\n  tasks:\n    - command: id -un\n' >"$1/project/site.yml"
  cp "$work/client" "$1/env/ssh_key"
  printf '{"HOME": "%s"}' "$1/home" >"$1/env/envvars"
}
agents() { { pgrep -x ssh-agent || true; } | wc -l; }

make_pdd "$work/pdd"
: >"$work/ko"; : >"$work/kt"; lo=0; lt=0; base=$(agents)
for ((i = 0; i < reps; i++)); do
  wall_ms "$arunner" run "$work/pdd" -p site.yml -q --ident "o$i" >>"$work/ko"
  lo=$((lo + $(agents) - base))
  wall_ms /usr/bin/ansible-runner run "$work/pdd" -p site.yml -q --ident "t$i" >>"$work/kt"
  lt=$((lt + $(agents) - base))
  sleep 11  # ansible-runner's agents exit at their next check; do not count them twice
done
so=$(cat "$work/pdd/artifacts/o0/status"); st=$(cat "$work/pdd/artifacts/t0/status")
ko=$(median <"$work/ko"); kt=$(median <"$work/kt")
awk -v o="$ko" -v t="$kt" -v n="$reps" -v so="$so" -v st="$st" 'BEGIN {
  printf "K1 one ssh task with env/ssh_key, wall ms (median of %d): arunner %d (%s), ansible-runner %d (%s), ratio arunner/ansible-runner = %.3f\n", n, o, so, t, st, o / t }'
echo "K2 ssh-agent processes alive right after the run (sum over $reps runs): arunner $lo, ansible-runner $lt"
