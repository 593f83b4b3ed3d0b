#!/usr/bin/env bash
# Side by side: the shared client-side engine benchmark (real docker CLI)
# against berthd and against a real dockerd started here, in the same run,
# then the ratio table. Also the raw runc floor.
#
#   bench/engine-side-by-side.sh                 # defaults: N=10, sections "run"
#   SECTIONS="run cycle ps exec logs" N=20 bench/engine-side-by-side.sh
#
# By default both daemons have a real bridge network with iptables (dockerd on
# its own bridge, see daemons.sh); NET=none runs dockerd with --bridge=none.
#
# Environment: SHARED_BENCH (default ../shared/bench next to the repo),
# SECTIONS (engine.sh sections to run: run cycle ps exec build logs push),
# ROUNDS (alternating rounds per daemon, default 2), N, and anything engine.sh takes.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED_BENCH=${SHARED_BENCH:-$HERE/../../shared/bench}
[[ -x $SHARED_BENCH/engine.sh ]] || { echo "need the shared engine benchmark at $SHARED_BENCH" >&2; exit 1; }
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
NET=${NET:-bridge}
cleanup() { stop_daemons; [[ $NET == bridge ]] && docker_bridge_down; }
trap cleanup EXIT

SECTIONS=${SECTIONS:-run}
ROUNDS=${ROUNDS:-2}
ALL="run cycle ps exec build logs push"
SKIP=""
for s in $ALL; do [[ " $SECTIONS " == *" $s "* ]] || SKIP+="$s "; done
export SKIP N=${N:-10}
OUT=${OUT:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"

if [[ $NET == bridge ]]; then
  docker_bridge_up
  BERTHD_ARGS="--bridge bbench0 --bip 10.240.7.1/24" start_berthd
  DOCKERD_ARGS="--bridge=$DBR --iptables=true --ip-masq=true" start_dockerd
else
  start_berthd
  start_dockerd
fi
for r in $(seq 1 "$ROUNDS"); do
  DOCKER_HOST=$DOCKER_HOST_URL DAEMON_PIDS="$DOCKERD_PID" RESULTS="$OUT/docker-$r.json" bash "$SHARED_BENCH/engine.sh" >/dev/null
  DOCKER_HOST=$BERTH_HOST_URL DAEMON_PIDS="$BERTHD_PID" RESULTS="$OUT/berth-$r.json" bash "$SHARED_BENCH/engine.sh" >/dev/null
done
RESULTS="$OUT/runc-floor.json" N=${N} bash "$SHARED_BENCH/runc-floor.sh" >/dev/null || true

echo "A = dockerd $(DOCKER_HOST=$DOCKER_HOST_URL docker version --format '{{.Server.Version}}'), B = berthd; results in $OUT"
node "$SHARED_BENCH/compare.mjs" "$OUT"/docker-*.json -- "$OUT"/berth-*.json
echo
node "$SHARED_BENCH/compare.mjs" "$OUT/runc-floor.json"
