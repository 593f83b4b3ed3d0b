# shellcheck shell=bash
# Starts berthd and a real dockerd (Debian docker.io) side by side, each on
# its own socket, data root and exec root under $BENCH_DIR, and stops them.
# Never touches a system daemon. Source it; call start_berthd / start_dockerd,
# and stop_daemons in an EXIT trap.
#
# BENCH_TLS=1: each daemon also listens on 127.0.0.1 with mutual TLS
# ($BERTH_TLS_PORT, $DOCKER_TLS_PORT), with certificates from `berth certs
# create` in $BENCH_DIR/certs (cert.pem/key.pem there are the client's).
BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$(mktemp -d /tmp/berth-bench.XXXXXX)}
BERTHD_PID=""
DOCKERD_PID=""
BENCH_TLS=${BENCH_TLS:-0}
BERTH_TLS_PORT=${BERTH_TLS_PORT:-23761}
DOCKER_TLS_PORT=${DOCKER_TLS_PORT:-23762}
BENCH_CERTS=$BENCH_DIR/certs

tls_args() { # PORT
  [[ $BENCH_TLS == 1 ]] || return 0
  [[ -f $BENCH_CERTS/ca.pem ]] || "$BENCH_REPO/bin/berth" certs create --dir "$BENCH_CERTS" --hosts 127.0.0.1,localhost >/dev/null || return 1
  echo "-H tcp://127.0.0.1:$1 --tlsverify --tlscacert $BENCH_CERTS/ca.pem --tlscert $BENCH_CERTS/server-cert.pem --tlskey $BENCH_CERTS/server-key.pem"
}

wait_sock() { # SOCK PID NAME
  for _ in $(seq 1 200); do
    curl -fs --unix-socket "$1" http://x/_ping >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { echo "$3 exited at start" >&2; return 1; }
    sleep 0.1
  done
  echo "$3 did not answer" >&2; return 1
}

start_berthd() {
  # a private bridge (--bridge NAME) is removed by stop_daemons
  [[ ${BERTHD_ARGS:-} =~ --bridge[[:space:]]+([^[:space:]]+) ]] && BENCH_BRIDGE=${BASH_REMATCH[1]}
  mkdir -p "$BENCH_DIR/berth"
  echo '{}' >"$BENCH_DIR/berth/daemon.json"
  "$BENCH_REPO/bin/berthd" -H "unix://$BENCH_DIR/berth.sock" --data-root "$BENCH_DIR/berth/data" \
    --exec-root "$BENCH_DIR/berth/exec" --cgroup-parent /berth-bench --config-file "$BENCH_DIR/berth/daemon.json" \
    $(tls_args "$BERTH_TLS_PORT") ${BERTHD_ARGS:-} >"$BENCH_DIR/berthd.log" 2>&1 &
  BERTHD_PID=$!
  wait_sock "$BENCH_DIR/berth.sock" "$BERTHD_PID" berthd
  BERTH_HOST_URL="unix://$BENCH_DIR/berth.sock"
}

start_dockerd() {
  command -v dockerd >/dev/null || { echo "dockerd not installed (apt-get install docker.io)" >&2; return 1; }
  mkdir -p "$BENCH_DIR/docker"
  echo '{}' >"$BENCH_DIR/docker/daemon.json"
  # its own containerd (managed by dockerd under the exec root), no bridge and no iptables changes;
  # DOCKERD_WRAP: a command that execs its arguments (e.g. in a private mount namespace), so the pid stays dockerd's
  ${DOCKERD_WRAP:-} dockerd -H "unix://$BENCH_DIR/docker.sock" --data-root "$BENCH_DIR/docker/data" --exec-root "$BENCH_DIR/docker/exec" \
    --pidfile "$BENCH_DIR/docker/docker.pid" --config-file "$BENCH_DIR/docker/daemon.json" \
    $(tls_args "$DOCKER_TLS_PORT") ${DOCKERD_ARGS:---bridge=none --iptables=false --ip-forward=false --ip-masq=false} >"$BENCH_DIR/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  wait_sock "$BENCH_DIR/docker.sock" "$DOCKERD_PID" dockerd
  DOCKER_HOST_URL="unix://$BENCH_DIR/docker.sock"
}

stop_pid() { # PID
  [[ -n $1 ]] || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 1 600); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
}

# berthd keeps its default bridge and its BERTH chains across restarts (as dockerd keeps docker0);
# a benchmark's private bridge goes with the benchmark.
remove_bench_bridge() { # NAME
  [[ -n $1 ]] || return 0
  iptables -D FORWARD -j "BERTH-FWD-$1" 2>/dev/null && { iptables -F "BERTH-FWD-$1"; iptables -X "BERTH-FWD-$1"; } 2>/dev/null
  iptables -t nat -D POSTROUTING -j "BERTH-NAT-$1" 2>/dev/null && { iptables -t nat -F "BERTH-NAT-$1"; iptables -t nat -X "BERTH-NAT-$1"; } 2>/dev/null
  ip link del "$1" 2>/dev/null || true
}

stop_daemons() {
  for h in "$BENCH_DIR/berth.sock" "$BENCH_DIR/docker.sock"; do
    [[ -S $h ]] || continue
    ids=$(DOCKER_HOST=unix://$h docker ps -aq 2>/dev/null)
    [[ -n $ids ]] && DOCKER_HOST=unix://$h docker rm -f $ids >/dev/null 2>&1
  done
  stop_pid "$BERTHD_PID"
  stop_pid "$DOCKERD_PID"
  remove_bench_bridge "${BENCH_BRIDGE:-}"
  # `|| true`: callers run with `set -eo pipefail`, and a grep that finds no mount must not end the trap before the rm
  { grep -o "$BENCH_DIR[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  for d in /sys/fs/cgroup/*/berth-bench; do [[ -d $d ]] && { rmdir "$d" 2>/dev/null || true; }; done
  rm -rf "$BENCH_DIR"
}

# A private bridge for a dockerd that runs with iptables (networking benchmarks):
# docker_bridge_up before start_dockerd with DOCKERD_ARGS="--bridge=$DBR --iptables=true ...",
# docker_bridge_down at exit (removes dockerd's chains and rules, restores FORWARD's policy).
DBR=${DBR:-bdock0}
FWD_POLICY=$(iptables -S FORWARD 2>/dev/null | awk '/^-P FORWARD/{print $3}')
docker_bridge_up() {
  ip link add "$DBR" type bridge && ip addr add 10.241.7.1/24 dev "$DBR" && ip link set "$DBR" up
}
docker_bridge_down() {
  set +e +o pipefail
  for t in filter nat; do
    iptables-save -t $t | grep -E '^-A (FORWARD|PREROUTING|OUTPUT|POSTROUTING) .*DOCKER' | sed 's/^-A /-D /' | while read -r rule; do
      eval "iptables -w -t $t $rule" 2>/dev/null || true
    done
    iptables-save -t $t | grep -E "^-A [A-Z]+ .*($DBR|10\.241\.7\.0)" | sed 's/^-A /-D /' | while read -r rule; do eval "iptables -w -t $t $rule" || true; done
    for ch in $(iptables-save -t $t | awk '/^:DOCKER/{print substr($1,2)}'); do iptables -w -t $t -F "$ch" 2>/dev/null || true; done
    for ch in $(iptables-save -t $t | awk '/^:DOCKER/{print substr($1,2)}'); do iptables -w -t $t -X "$ch" 2>/dev/null || true; done
  done
  [[ -n $FWD_POLICY ]] && iptables -P FORWARD "$FWD_POLICY"
  ip link del "$DBR" 2>/dev/null || true
}
