#!/usr/bin/env bash
# Networks side by side (issue 5): berthd and a real dockerd started here.
#   1. setup latency: network create + run -d --network + rm -f + network rm
#   2. TCP throughput through a published port, host -> container over 127.0.0.1
#      (socat on the host, busybox nc in the container), for berth (CNI portmap,
#      iptables DNAT + route_localnet), dockerd's iptables path
#      (--userland-proxy=false) and dockerd's userland proxy (the default).
#
#   N=10 MB=1024 bench/network-side-by-side.sh
#
# dockerd gets its own bridge (daemons.sh docker_bridge_up) and iptables; the script
# removes the bridge, dockerd's chains and restores FORWARD's policy at exit.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
N=${N:-10}
ROUNDS=${ROUNDS:-7}
MB=${MB:-1024}
finish() { set +e; stop_daemons; docker_bridge_down; }
trap finish EXIT

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

setup_latency() { # HOST -> median ms
  local h=$1 t0 t1
  for i in $(seq 1 "$N"); do
    t0=$(now)
    DOCKER_HOST=$h docker network create "bn$i" >/dev/null
    DOCKER_HOST=$h docker run -d --name "bc$i" --network "bn$i" busybox sleep 60 >/dev/null
    DOCKER_HOST=$h docker rm -f "bc$i" >/dev/null
    DOCKER_HOST=$h docker network rm "bn$i" >/dev/null
    t1=$(now)
    echo $(((t1 - t0) / 1000000))
  done | median
}

start_sink() { # HOST PORT
  DOCKER_HOST=$1 docker run -d --name sink -p "127.0.0.1:$2:5001" busybox sh -c 'while true; do nc -l -p 5001 >/dev/null; done' >/dev/null
  sleep 1
}

transfer() { # PORT -> MB/s of one transfer of $MB MiB
  local t0 t1
  t0=$(now)
  head -c "${MB}M" /dev/zero | socat -u - "TCP:127.0.0.1:$1" 2>/dev/null
  t1=$(now)
  echo "$MB $t0 $t1" | awk '{printf "%d\n", $1 / (($3 - $2) / 1e9)}'
  sleep 0.3
}

docker_bridge_up
BERTHD_ARGS="--bridge bbench0 --bip 10.240.7.1/24" start_berthd
DOCKERD_ARGS="--bridge=$DBR --iptables=true --ip-masq=true --userland-proxy=false" start_dockerd
for h in "$BERTH_HOST_URL" "$DOCKER_HOST_URL"; do
  DOCKER_HOST=$h "$BENCH_REPO/bin/berth" image bootstrap busybox >/dev/null 2>&1 || \
    (docker -H "$BERTH_HOST_URL" save busybox | docker -H "$h" load >/dev/null)
done

echo "setup latency (network create + run -d --network + rm -f + network rm), median of $N"
B_SET=$(setup_latency "$BERTH_HOST_URL"); D_SET=$(setup_latency "$DOCKER_HOST_URL")
B_SET2=$(setup_latency "$BERTH_HOST_URL"); D_SET2=$(setup_latency "$DOCKER_HOST_URL")
echo "  berthd  $B_SET ms / $B_SET2 ms"
echo "  dockerd $D_SET ms / $D_SET2 ms"

echo "published-port throughput, host -> container over 127.0.0.1, $MB MiB per transfer, median of $ROUNDS alternating rounds (MB/s)"
start_sink "$BERTH_HOST_URL" 18501
start_sink "$DOCKER_HOST_URL" 18502
: >"$BENCH_DIR/tp-b"; : >"$BENCH_DIR/tp-d"
for _ in $(seq 1 "$ROUNDS"); do
  transfer 18501 >>"$BENCH_DIR/tp-b"
  transfer 18502 >>"$BENCH_DIR/tp-d"
done
echo "  berthd (portmap DNAT)            $(median <"$BENCH_DIR/tp-b")   [$(tr '\n' ' ' <"$BENCH_DIR/tp-b")]"
echo "  dockerd (iptables DNAT)          $(median <"$BENCH_DIR/tp-d")   [$(tr '\n' ' ' <"$BENCH_DIR/tp-d")]"
DOCKER_HOST=$DOCKER_HOST_URL docker rm -f sink >/dev/null
stop_pid "$DOCKERD_PID"; DOCKERD_PID=""
DOCKERD_ARGS="--bridge=$DBR --iptables=true --ip-masq=true --userland-proxy=true" start_dockerd
start_sink "$DOCKER_HOST_URL" 18503
: >"$BENCH_DIR/tp-p"
for _ in $(seq 1 "$ROUNDS"); do transfer 18503 >>"$BENCH_DIR/tp-p"; done
echo "  dockerd (userland docker-proxy)  $(median <"$BENCH_DIR/tp-p")   [$(tr '\n' ' ' <"$BENCH_DIR/tp-p")]"
