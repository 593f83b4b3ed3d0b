#!/usr/bin/env bash
# Side by side: legacy volume plugins (issue 17) in berthd and a real dockerd,
# both started by daemons.sh in the same run, each talking to its own copy of
# the same plugin (test/support/plugins/volume-plugin.mjs, VolumeDriver on a
# unix socket named plugvol.sock).
#
#   ROUNDS=1 bench/plugins-side-by-side.sh
#
# Measures (wall time of the docker CLI, medians):
#   create  `docker volume create -d plugvol vN`                 (N_CREATE per round)
#   plugin  `docker run --rm --network none -v plugvol-vol:/d busybox true`, the volume
#           on the plugin: Get + Mount + Unmount per run           (N_RUN per round)
#   local   the same with a local volume: the floor                (N_RUN per round)
# Both daemons run the container with --network none so the figure is the
# volume's, not the network setup's.
#
# dockerd finds legacy plugins only in /run/docker/plugins (and the spec dirs
# /etc/docker/plugins, /usr/lib/docker/plugins): it runs in a private mount
# namespace with a temp dir bound over /run/docker/plugins, so the host's
# directory is never written. berthd takes --plugin-socket-dir.
#
# Environment: ROUNDS (alternating rounds per daemon, default 1), N_CREATE (20), N_RUN (10).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
ROUNDS=${ROUNDS:-1}
N_CREATE=${N_CREATE:-20}
N_RUN=${N_RUN:-10}
OUT=${OUT:-$HERE/results/plugins-$(date -u +%Y%m%dT%H%M%SZ)}
PLUG=$(mktemp -d /tmp/berth-plugbench.XXXXXX)
PLUGIN_PIDS=()

stop_plugins() {
  local p
  for p in "${PLUGIN_PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null || continue
    # it closes its server on TERM; a client's keep-alive connection could hold that open
    for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
}
cleanup() {
  set +e
  stop_daemons # first: a daemon may still call its plugin while it stops
  stop_plugins
  rm -rf "$PLUG"
}
trap cleanup EXIT

start_plugin() { # NAME -> serves $PLUG/NAME/sock/plugvol.sock, state in $PLUG/NAME/state
  local d=$PLUG/$1
  mkdir -p "$d/sock" "$d/state"
  node "$BENCH_REPO/test/support/plugins/volume-plugin.mjs" "$d/sock/plugvol.sock" "$d/state" >"$d/plugin.log" 2>&1 &
  PLUGIN_PIDS+=($!)
  for _ in $(seq 1 100); do
    grep -q ready "$d/plugin.log" && return 0
    kill -0 "$!" 2>/dev/null || break
    sleep 0.1
  done
  echo "volume plugin for $1 did not start: $(cat "$d/plugin.log")" >&2
  return 1
}

# Execs dockerd (pid unchanged) in a private mount namespace where /run/docker/plugins is
# $PLUG/docker/sock; the namespace, and so the bind, ends with dockerd.
[[ -d /run/docker/plugins ]] || { echo "need an existing /run/docker/plugins to bind over (mkdir -p /run/docker/plugins)" >&2; exit 1; }
cat >"$PLUG/dockerd-ns.sh" <<'WRAP'
#!/bin/sh
dir=$1; shift
exec unshare -m --propagation private -- sh -c 'mount --bind "$0" /run/docker/plugins && exec "$@"' "$dir" "$@"
WRAP
chmod +x "$PLUG/dockerd-ns.sh"

start_plugin berth
start_plugin docker
# a private bridge (removed by stop_daemons), though every container here runs with --network none
BERTHD_ARGS="--plugin-socket-dir $PLUG/berth/sock --bridge bplug0 --bip 10.240.9.1/24" start_berthd
DOCKERD_WRAP="$PLUG/dockerd-ns.sh $PLUG/docker/sock" start_dockerd
# the same busybox in both: made by berth, loaded into dockerd
DOCKER_HOST=$BERTH_HOST_URL "$BENCH_REPO/bin/berth" image bootstrap busybox >/dev/null
DOCKER_HOST=$BERTH_HOST_URL docker save busybox | DOCKER_HOST=$DOCKER_HOST_URL docker load >/dev/null
mkdir -p "$OUT"

t() { # FILE CMD... -> appends the command's wall time in ms to FILE
  local f=$1 t0 t1
  shift
  t0=${EPOCHREALTIME/./}
  "$@" >/dev/null
  t1=${EPOCHREALTIME/./}
  echo "$(( (t1 - t0) / 1000 )).$(( (t1 - t0) % 1000 / 100 ))" >>"$f"
}

measure() { # WHO ROUND
  local who=$1 r=$2 i host
  [[ $who == berth ]] && host=$BERTH_HOST_URL || host=$DOCKER_HOST_URL
  export DOCKER_HOST=$host
  docker volume create -d plugvol "warm-$r" >/dev/null # activation and the first handshake, untimed
  for i in $(seq 1 "$N_CREATE"); do t "$OUT/$who.create" docker volume create -d plugvol "v$r-$i"; done
  for i in $(seq 1 "$N_CREATE"); do docker volume rm "v$r-$i" >/dev/null; done
  docker volume rm "warm-$r" >/dev/null
  docker volume create -d plugvol plugvol-vol >/dev/null
  docker volume create localvol >/dev/null
  docker run --rm --network none -v plugvol-vol:/d busybox true # warm-up, untimed
  docker run --rm --network none -v localvol:/d busybox true
  for i in $(seq 1 "$N_RUN"); do
    t "$OUT/$who.plugin" docker run --rm --network none -v plugvol-vol:/d busybox true
    t "$OUT/$who.local" docker run --rm --network none -v localvol:/d busybox true
  done
  docker volume rm plugvol-vol localvol >/dev/null
  unset DOCKER_HOST
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(date -u +%H:%M) UTC)" | tee "$OUT/load"
for r in $(seq 1 "$ROUNDS"); do
  measure docker "$r"
  measure berth "$r"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg) ($(date -u +%H:%M) UTC)" | tee -a "$OUT/load"

median() { sort -g "$1" | awk '{v[NR]=$1} END{ if (NR%2) m=v[(NR+1)/2]; else m=(v[NR/2]+v[NR/2+1])/2; printf "%.1f", m }'; }
range() { sort -g "$1" | awk 'NR==1{a=$1} {b=$1} END{printf "%s-%s n=%d", a, b, NR}'; }
# each side's plugin saw the runs: one Mount per timed and warm-up run
for who in docker berth; do
  echo "$who's plugin: $(grep -c '"VolumeDriver.Mount"' "$PLUG/$who/state/calls.jsonl") Mount, $(grep -c '"VolumeDriver.Unmount"' "$PLUG/$who/state/calls.jsonl") Unmount, $(grep -c '"VolumeDriver.Create"' "$PLUG/$who/state/calls.jsonl") Create calls" | tee -a "$OUT/load"
done
echo
echo "dockerd $(DOCKER_HOST=$DOCKER_HOST_URL docker version --format '{{.Server.Version}}') vs berthd; samples in $OUT"
printf '%-8s %12s %12s %8s   %s\n' metric docker_ms berth_ms ratio 'ranges (docker | berth)'
for m in create plugin local; do
  d=$(median "$OUT/docker.$m")
  b=$(median "$OUT/berth.$m")
  printf '%-8s %12s %12s %8s   %s | %s\n' "$m" "$d" "$b" "$(awk -v b="$b" -v d="$d" 'BEGIN{printf "%.2f", b/d}')" "$(range "$OUT/docker.$m")" "$(range "$OUT/berth.$m")"
done
