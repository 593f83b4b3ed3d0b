#!/usr/bin/env bash
# A/B of two berth trees on `docker push` of a never-pushed image (3 layers of
# 100 MB random bytes, as registry-side-by-side.sh makes): a berthd from each
# (bench/ab-daemons.sh), a fresh CNCF registry per push, alternating. Every
# round removes the image first, so each push compresses its layers again
# (a pushed layer's gzip blob is kept and re-sent as is otherwise).
#
#   BASE=/tmp/base-tree N=4 bench/push-ab.sh   # A = BASE (built), B = this tree
set -uo pipefail
N=${N:-4}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ab-daemons.sh"
REGPID=""
trap '[[ -n $REGPID ]] && kill "$REGPID"; stop_ab_daemons' EXIT
start_ab_daemons
W=$AB_DIR LAYERS=3 LAYER_MB=100
. "$HERE/big-image.sh"
make_big
REG=127.0.0.1:${REGISTRY_PORT:-25201}
fresh_registry() {
  if [[ -n $REGPID ]]; then kill "$REGPID"; wait "$REGPID" 2>/dev/null; fi
  rm -rf "$W/reg"; mkdir -p "$W/reg"
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n  secret: bench\n' \
    "$W/reg/data" "$REG" >"$W/reg/config.yml"
  docker-registry serve "$W/reg/config.yml" >"$W/reg/log" 2>&1 &
  REGPID=$!
  for _ in $(seq 1 100); do curl -fs "http://$REG/v2/" >/dev/null && return 0; sleep 0.1; done
}
declare -A T
for i in $(seq 1 "$N"); do
  for w in A B; do
    fresh_registry
    export DOCKER_HOST; DOCKER_HOST=$(ab_host $w)
    ids=$(docker images -q); [[ -n $ids ]] && docker rmi -f $ids >/dev/null
    docker load -i "$W/big.tar" >/dev/null
    docker tag bench/big:1 "$REG/bench/big:$i"
    sync; t=$(date +%s%N); docker push "$REG/bench/big:$i" >/dev/null; T[$w]+="$(( ($(date +%s%N) - t) / 1000000 )) "
  done
done
echo "push ms, A: ${T[A]}| B: ${T[B]}"
echo "load: $(cat /proc/loadavg)"
