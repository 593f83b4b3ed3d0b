#!/usr/bin/env bash
# Images, side by side: berthd and a real dockerd (bench/daemons.sh), same
# docker CLI, same archive, in one run.
#   load / save of a ~500 MB, 5-layer image (MB/s), `images` with 200 images,
#   `system df`; plus the sha256 floor (sha256sum of the same archive bytes).
#
#   bench/images-side-by-side.sh                # LAYER_MB=100 LAYERS=5 N=3 IMAGES=200 Q=10
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
trap stop_daemons EXIT
LAYER_MB=${LAYER_MB:-100}
LAYERS=${LAYERS:-5}
N=${N:-3}
IMAGES=${IMAGES:-200}
Q=${Q:-10}
W="$BENCH_DIR/work"
mkdir -p "$W"

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# shellcheck source=big-image.sh
. "$HERE/big-image.sh"

# ---- IMAGES small images sharing one tiny layer, in one archive
make_many() {
  local dir="$W/many" entries=()
  mkdir -p "$dir/l"
  echo small >"$dir/l/f"
  tar -C "$dir/l" -cf "$dir/layer.tar" .
  rm -rf "$dir/l"
  local diff; diff="sha256:$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)"
  for i in $(seq 1 "$IMAGES"); do
    local cfg; cfg=$(printf '{"architecture":"amd64","os":"linux","created":"2026-01-01T00:00:%02dZ","config":{"Cmd":["sh"],"Labels":{"n":"%d"}},"rootfs":{"type":"layers","diff_ids":["%s"]}}' $((i % 60)) "$i" "$diff")
    local hex; hex=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
    printf '%s' "$cfg" >"$dir/$hex.json"
    entries+=("$(printf '{"Config":"%s.json","RepoTags":["bench/many%d:1"],"Layers":["layer.tar"]}' "$hex" "$i")")
  done
  printf '[%s]' "$(IFS=,; echo "${entries[*]}")" >"$dir/manifest.json"
  tar -C "$dir" -cf "$W/many.tar" .
  rm -rf "$dir"
}

make_big
make_many
SIZE=$(stat -c %s "$W/big.tar")
MB=$(awk -v s="$SIZE" 'BEGIN {printf "%.1f", s/1e6}')
start_berthd
start_dockerd

declare -A R
mbps() { awk -v s="$SIZE" -v ns="$1" 'BEGIN {printf "%.0f", s/1e6/(ns/1e9)}'; }
ms() { awk -v ns="$1" 'BEGIN {printf "%.1f", ns/1e6}'; }

for who in docker berth; do
  if [[ $who == docker ]]; then export DOCKER_HOST=$DOCKER_HOST_URL; else export DOCKER_HOST=$BERTH_HOST_URL; fi
  loads=(); saves=()
  for _ in $(seq 1 "$N"); do
    sync; t=$(now); docker load -i "$W/big.tar" >/dev/null; loads+=($(( $(now) - t )))
    t=$(now); docker save bench/big:1 >/dev/null; saves+=($(( $(now) - t )))
    docker rmi bench/big:1 >/dev/null
  done
  R[$who.load]=$(printf '%s\n' "${loads[@]}" | median)
  R[$who.save]=$(printf '%s\n' "${saves[@]}" | median)
  docker load -i "$W/many.tar" >/dev/null
  lists=(); dfs=()
  for _ in $(seq 1 "$Q"); do
    t=$(now); docker images >/dev/null; lists+=($(( $(now) - t )))
    t=$(now); docker system df >/dev/null; dfs+=($(( $(now) - t )))
  done
  R[$who.images]=$(printf '%s\n' "${lists[@]}" | median)
  R[$who.df]=$(printf '%s\n' "${dfs[@]}" | median)
  R[$who.count]=$(docker images -q | wc -l)
done
floors=()
for _ in $(seq 1 "$N"); do t=$(now); sha256sum "$W/big.tar" >/dev/null; floors+=($(( $(now) - t ))); done
FLOOR=$(printf '%s\n' "${floors[@]}" | median)

echo "archive: $MB MB, $LAYERS layers; images listed: docker ${R[docker.count]}, berth ${R[berth.count]}; medians of N=$N (load/save), Q=$Q (images/df)"
printf '%-28s %14s %14s %10s\n' metric "dockerd $(DOCKER_HOST=$DOCKER_HOST_URL docker version --format '{{.Server.Version}}')" berthd 'berth/docker'
row() { printf '%-28s %14s %14s %10s\n' "$1" "$2" "$3" "$4"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b/a}'; }
row "load (MB/s, higher better)" "$(mbps "${R[docker.load]}")" "$(mbps "${R[berth.load]}")" "$(ratio "$(mbps "${R[docker.load]}")" "$(mbps "${R[berth.load]}")")"
row "save (MB/s, higher better)" "$(mbps "${R[docker.save]}")" "$(mbps "${R[berth.save]}")" "$(ratio "$(mbps "${R[docker.save]}")" "$(mbps "${R[berth.save]}")")"
row "images, $IMAGES present (ms)" "$(ms "${R[docker.images]}")" "$(ms "${R[berth.images]}")" "$(ratio "${R[docker.images]}" "${R[berth.images]}")"
row "system df (ms)" "$(ms "${R[docker.df]}")" "$(ms "${R[berth.df]}")" "$(ratio "${R[docker.df]}" "${R[berth.df]}")"
row "floor: sha256sum (MB/s)" "$(mbps "$FLOOR")" "" ""
