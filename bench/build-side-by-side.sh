#!/usr/bin/env bash
# Builds, side by side: berthd and a real dockerd's classic builder
# (bench/daemons.sh), same docker CLI (DOCKER_BUILDKIT=0), same context.
#   a 10-step Dockerfile with a 50 MB COPY: cold build (--no-cache), fully
#   cached rebuild, and a rebuild after one small file changed (ms).
#
#   bench/build-side-by-side.sh                 # N=5 BIG_MB=50
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
trap stop_daemons EXIT
N=${N:-5}
BIG_MB=${BIG_MB:-50}
W="$BENCH_DIR/work"
CTX="$W/ctx"
mkdir -p "$CTX"
export DOCKER_BUILDKIT=0

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

head -c "${BIG_MB}M" /dev/urandom >"$CTX/big.bin"
echo small >"$CTX/small.txt"
cat >"$CTX/Dockerfile" <<'DOCKERFILE'
FROM busybox
ENV A=1
RUN echo step > /step
COPY big.bin /big.bin
LABEL bench=build
WORKDIR /app
COPY small.txt /app/small.txt
RUN cat /app/small.txt > /app/copy
ENV B=2
CMD ["sh"]
DOCKERFILE

start_berthd
start_dockerd
# the same busybox in both: made by berth, loaded into dockerd
DOCKER_HOST=$BERTH_HOST_URL "$BENCH_REPO/bin/berth" image bootstrap busybox >/dev/null
DOCKER_HOST=$BERTH_HOST_URL docker save busybox | DOCKER_HOST=$DOCKER_HOST_URL docker load >/dev/null

declare -A R
for who in docker berth; do
  if [[ $who == docker ]]; then export DOCKER_HOST=$DOCKER_HOST_URL; else export DOCKER_HOST=$BERTH_HOST_URL; fi
  colds=(); cached=(); touched=()
  docker build -q -t bench/build "$CTX" >/dev/null 2>&1 # warm the page cache and the base image
  for i in $(seq 1 "$N"); do
    t=$(now); docker build -q --no-cache -t bench/build "$CTX" >/dev/null 2>&1; colds+=($(( $(now) - t )))
    t=$(now); docker build -q -t bench/build "$CTX" >/dev/null 2>&1; cached+=($(( $(now) - t )))
    echo "small $i" >"$CTX/small.txt"
    t=$(now); docker build -q -t bench/build "$CTX" >/dev/null 2>&1; touched+=($(( $(now) - t )))
  done
  R[$who.cold]=$(printf '%s\n' "${colds[@]}" | median)
  R[$who.cached]=$(printf '%s\n' "${cached[@]}" | median)
  R[$who.touched]=$(printf '%s\n' "${touched[@]}" | median)
done

ms() { awk -v ns="$1" 'BEGIN {printf "%.0f", ns/1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b/a}'; }
row() { printf '%-34s %14s %10s %12s\n' "$1" "$2" "$3" "$4"; }
echo "10 steps, ${BIG_MB} MB COPY; medians of N=$N; ms, lower is better"
row metric "dockerd $(DOCKER_HOST=$DOCKER_HOST_URL docker version --format '{{.Server.Version}}')" berthd 'berth/docker'
row "cold build (--no-cache)" "$(ms "${R[docker.cold]}")" "$(ms "${R[berth.cold]}")" "$(ratio "${R[docker.cold]}" "${R[berth.cold]}")"
row "cached rebuild" "$(ms "${R[docker.cached]}")" "$(ms "${R[berth.cached]}")" "$(ratio "${R[docker.cached]}" "${R[berth.cached]}")"
row "rebuild, one small file changed" "$(ms "${R[docker.touched]}")" "$(ms "${R[berth.touched]}")" "$(ratio "${R[docker.touched]}" "${R[berth.touched]}")"
