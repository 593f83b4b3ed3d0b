#!/usr/bin/env bash
# Pull and push through a local registry, side by side: berthd and a real
# dockerd (bench/daemons.sh) against CNCF distribution (Debian's
# docker-registry) on 127.0.0.1, same docker CLI, same image, in one run.
#   push and pull of a ~500 MB, 5-layer image (MB/s of the image's bytes),
#   and a re-pull of the image already present (ms); plus the sha256 floor.
# Each round starts from a fresh registry and a freshly loaded image, so
# every push compresses and uploads every layer and every pull downloads it.
#
#   bench/registry-side-by-side.sh              # LAYER_MB=100 LAYERS=5 N=3 Q=10
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
# shellcheck source=big-image.sh
. "$HERE/big-image.sh"
LAYER_MB=${LAYER_MB:-100}
LAYERS=${LAYERS:-5}
N=${N:-3}
Q=${Q:-10}
W="$BENCH_DIR/work"
PORT=${REGISTRY_PORT:-25123}
REG=127.0.0.1:$PORT
REG_PID=""
mkdir -p "$W"

stop_registry() {
  [[ -n $REG_PID ]] || return 0
  kill "$REG_PID" 2>/dev/null || true
  wait "$REG_PID" 2>/dev/null || true
  REG_PID=""
}
cleanup() { stop_registry; stop_daemons; }
trap cleanup EXIT

# a registry with empty storage
fresh_registry() {
  stop_registry
  rm -rf "$W/registry"
  mkdir -p "$W/registry"
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n  secret: bench\n' \
    "$W/registry/data" "$REG" >"$W/registry/config.yml"
  docker-registry serve "$W/registry/config.yml" >"$W/registry/log" 2>&1 &
  REG_PID=$!
  for _ in $(seq 1 100); do curl -fs "http://$REG/v2/" >/dev/null && return 0; sleep 0.1; done
  echo "docker-registry did not start" >&2; return 1
}

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

make_big
SIZE=$(stat -c %s "$W/big.tar")
MB=$(awk -v s="$SIZE" 'BEGIN {printf "%.1f", s/1e6}')
start_berthd
start_dockerd

declare -A R
for who in docker berth; do
  if [[ $who == docker ]]; then export DOCKER_HOST=$DOCKER_HOST_URL; else export DOCKER_HOST=$BERTH_HOST_URL; fi
  pushes=(); pulls=(); repulls=()
  for r in $(seq 1 "$N"); do
    fresh_registry
    docker load -i "$W/big.tar" >/dev/null
    name="$REG/bench/big:$r"
    docker tag bench/big:1 "$name"
    sync; t=$(now); docker push "$name" >/dev/null; pushes+=($(( $(now) - t )))
    docker rmi "$name" bench/big:1 >/dev/null
    sync; t=$(now); docker pull "$name" >/dev/null; pulls+=($(( $(now) - t )))
    for _ in $(seq 1 "$Q"); do t=$(now); docker pull "$name" >/dev/null; repulls+=($(( $(now) - t ))); done
    docker rmi "$name" >/dev/null
  done
  R[$who.push]=$(printf '%s\n' "${pushes[@]}" | median)
  R[$who.pull]=$(printf '%s\n' "${pulls[@]}" | median)
  R[$who.repull]=$(printf '%s\n' "${repulls[@]}" | median)
done
floors=()
for _ in $(seq 1 "$N"); do t=$(now); sha256sum "$W/big.tar" >/dev/null; floors+=($(( $(now) - t ))); done
FLOOR=$(printf '%s\n' "${floors[@]}" | median)

mbps() { awk -v s="$SIZE" -v ns="$1" 'BEGIN {printf "%.0f", s/1e6/(ns/1e9)}'; }
ms() { awk -v ns="$1" 'BEGIN {printf "%.1f", ns/1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b/a}'; }
row() { printf '%-30s %14s %14s %10s\n' "$1" "$2" "$3" "$4"; }
echo "image: $MB MB, $LAYERS layers of random bytes; registry: $(docker-registry --version 2>/dev/null | head -1); medians of N=$N (push/pull), $((N * Q)) re-pulls"
row metric "dockerd $(DOCKER_HOST=$DOCKER_HOST_URL docker version --format '{{.Server.Version}}')" berthd 'berth/docker'
row "push (MB/s, higher better)" "$(mbps "${R[docker.push]}")" "$(mbps "${R[berth.push]}")" "$(ratio "$(mbps "${R[docker.push]}")" "$(mbps "${R[berth.push]}")")"
row "pull (MB/s, higher better)" "$(mbps "${R[docker.pull]}")" "$(mbps "${R[berth.pull]}")" "$(ratio "$(mbps "${R[docker.pull]}")" "$(mbps "${R[berth.pull]}")")"
row "re-pull, present (ms)" "$(ms "${R[docker.repull]}")" "$(ms "${R[berth.repull]}")" "$(ratio "${R[docker.repull]}" "${R[berth.repull]}")"
row "floor: sha256sum (MB/s)" "$(mbps "$FLOOR")" "" ""
