#!/usr/bin/env bash
# Builds, side by side: berthd and a real dockerd's classic builder
# (bench/daemons.sh), same docker CLI (DOCKER_BUILDKIT=0), same context.
#   a 10-step Dockerfile with a 50 MB COPY: cold build (--no-cache), fully
#   cached rebuild, and a rebuild after one small file changed (ms).
#
# Then against dockerd 20.10's embedded BuildKit (Debian's docker 20.10 CLI,
# /usr/bin/docker, DOCKER_BUILDKIT=1; berth through the same CLI with
# DOCKER_BUILDKIT=0; RUN on the host network on both: the bench dockerd has no bridge): the same Dockerfile cold / fully cached / one file
# changed, and a two-stage build whose stages are independent (each RUN
# sleeps 1 s: run in parallel ~1 s, in sequence ~2 s). A third column runs
# berth's own CLI (`berth build`: the incremental context, docs/build.md),
# and the three alternate within each round so they share the load.
#
#   bench/build-side-by-side.sh                 # N=5 BIG_MB=50
#   PARTS=buildkit bench/build-side-by-side.sh  # only the BuildKit comparison
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
# shellcheck source=build-context.sh
. "$HERE/build-context.sh"
trap stop_daemons EXIT
N=${N:-5}
BIG_MB=${BIG_MB:-50}
W="$BENCH_DIR/work"
CTX="$W/ctx"
mkdir -p "$CTX"
export DOCKER_BUILDKIT=0

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

make_build_context "$CTX" "$BIG_MB"

start_berthd
start_dockerd
# the same busybox in both: made by berth, loaded into dockerd
DOCKER_HOST=$BERTH_HOST_URL "$BENCH_REPO/bin/berth" image bootstrap busybox >/dev/null
DOCKER_HOST=$BERTH_HOST_URL docker save busybox | DOCKER_HOST=$DOCKER_HOST_URL docker load >/dev/null

PARTS=${PARTS:-classic,buildkit}
DOCKER20=${DOCKER20:-/usr/bin/docker}
declare -A R
[[ $PARTS == *classic* ]] && for who in docker berth; do
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

# BuildKit side: docker 20.10 CLI + DOCKER_BUILDKIT=1 for dockerd; berth gets the classic API through the same CLI
mkdir -p "$W/two"
cat >"$W/two/Dockerfile" <<'DOCKERFILE'
FROM busybox AS a
ARG NONCE
RUN sleep 1 && echo "a $NONCE" > /a
FROM busybox AS b
ARG NONCE
RUN sleep 1 && echo "b $NONCE" > /b
FROM busybox
COPY --from=a /a /a
COPY --from=b /b /b
DOCKERFILE
bk() { # WHO ARGS...: one build, quiet (its output shown when it fails)
  local who=$1 rc=0; shift
  case $who in
    docker) DOCKER_HOST=$DOCKER_HOST_URL DOCKER_BUILDKIT=1 "$DOCKER20" build -q --network host "$@" >"$W/bk.log" 2>&1 || rc=$? ;;
    berth) DOCKER_HOST=$BERTH_HOST_URL DOCKER_BUILDKIT=0 "$DOCKER20" build -q --network host "$@" >"$W/bk.log" 2>&1 || rc=$? ;;
    berthcli) DOCKER_HOST=$BERTH_HOST_URL XDG_CACHE_HOME="$W/berth-cache" "$BENCH_REPO/bin/berth" build -q --network host "$@" >"$W/bk.log" 2>&1 || rc=$? ;;
  esac
  [[ $rc == 0 ]] || cat "$W/bk.log" >&2
  return $rc
}
declare -A T
if [[ $PARTS == *buildkit* ]]; then
  for who in docker berth berthcli; do bk "$who" -t "bench/bk-$who" "$CTX" || { echo "$who: build failed" >&2; exit 1; }; done
  for i in $(seq 1 "$N"); do
    for who in docker berth berthcli; do # alternating: each round measures all three under the same load
      t=$(now); bk "$who" --no-cache -t "bench/bk-$who" "$CTX"; T[$who.cold]+="$(( $(now) - t )) "
      t=$(now); bk "$who" -t "bench/bk-$who" "$CTX"; T[$who.cached]+="$(( $(now) - t )) "
      echo "bk small $who $i" >"$CTX/small.txt"
      t=$(now); bk "$who" -t "bench/bk-$who" "$CTX"; T[$who.touched]+="$(( $(now) - t )) "
      t=$(now); bk "$who" --build-arg "NONCE=$who$i$RANDOM" -t "bench/two-$who" "$W/two"; T[$who.two]+="$(( $(now) - t )) "
    done
  done
  for who in docker berth berthcli; do
    for m in cold cached touched two; do R[bk.$who.$m]=$(printf '%s\n' ${T[$who.$m]} | median); done
  done
fi

ms() { awk -v ns="$1" 'BEGIN {printf "%.0f", ns/1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b/a}'; }
row() { printf '%-34s %14s %10s %12s %12s %14s\n' "$1" "$2" "$3" "$4" "${5:-}" "${6:-}"; }
if [[ $PARTS == *classic* ]]; then
  echo "10 steps, ${BIG_MB} MB COPY; medians of N=$N; ms, lower is better"
  row metric "dockerd $(DOCKER_HOST=$DOCKER_HOST_URL docker version --format '{{.Server.Version}}')" berthd 'berth/docker'
  row "cold build (--no-cache)" "$(ms "${R[docker.cold]}")" "$(ms "${R[berth.cold]}")" "$(ratio "${R[docker.cold]}" "${R[berth.cold]}")"
  row "cached rebuild" "$(ms "${R[docker.cached]}")" "$(ms "${R[berth.cached]}")" "$(ratio "${R[docker.cached]}" "${R[berth.cached]}")"
  row "rebuild, one small file changed" "$(ms "${R[docker.touched]}")" "$(ms "${R[berth.touched]}")" "$(ratio "${R[docker.touched]}" "${R[berth.touched]}")"
fi
if [[ $PARTS == *buildkit* ]]; then
  echo "vs BuildKit: docker $("$DOCKER20" --version | awk '{print $3}' | tr -d ,) CLI (berth CLI: berth build); medians of N=$N, alternating; ms, lower is better"
  row metric "dockerd $(DOCKER_HOST=$DOCKER_HOST_URL docker version --format '{{.Server.Version}}') BuildKit" berthd 'berth/buildkit' 'berth CLI' 'berthCLI/bk'
  for m in cold cached touched two; do
    case $m in cold) label="cold build (--no-cache)" ;; cached) label="fully cached" ;; touched) label="one source file changed" ;; two) label="two independent stages (1 s each)" ;; esac
    row "$label" "$(ms "${R[bk.docker.$m]}")" "$(ms "${R[bk.berth.$m]}")" "$(ratio "${R[bk.docker.$m]}" "${R[bk.berth.$m]}")" \
      "$(ms "${R[bk.berthcli.$m]}")" "$(ratio "${R[bk.docker.$m]}" "${R[bk.berthcli.$m]}")"
  done
fi
