#!/usr/bin/env bash
# Where the time of `docker run --rm busybox true` and `docker exec <c> true`
# goes: berthd --debug on a private socket and bridge, N runs of each through
# the real docker CLI, then the medians of GET /debug/spans per request.
#
#   N=15 bench/spans.sh
#   DEBUG=0 N=15 bench/spans.sh    # timings only, berthd without --debug (the cost of tracing)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
trap stop_daemons EXIT
N=${N:-15}
IMG=bench/busybox:latest
DEBUG=${DEBUG:-1}
BERTHD_ARGS="$([[ $DEBUG == 1 ]] && echo --debug) --bridge bspans0 --bip 10.240.9.1/24" start_berthd
export DOCKER_HOST=$BERTH_HOST_URL
spans() { [[ $DEBUG == 1 ]] && curl -fs --unix-socket "$BENCH_DIR/berth.sock" http://x/debug/spans || echo "[]"; }
if ! docker image inspect "$IMG" >/dev/null 2>&1; then
  docker import --change 'CMD ["sh"]' - "$IMG" < <(cd /tmp && mkdir -p "$BENCH_DIR/rootfs/bin" && cp /bin/busybox "$BENCH_DIR/rootfs/bin/" && for a in sh true sleep; do ln -sf busybox "$BENCH_DIR/rootfs/bin/$a"; done && tar -C "$BENCH_DIR/rootfs" -c .) >/dev/null
fi
docker run --rm "$IMG" true
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
time_n() { # LABEL CMD...
  local label=$1; shift; local ts=()
  for _ in $(seq 1 "$N"); do
    local t0; t0=$(date +%s%N); "$@" >/dev/null; ts+=($(( ($(date +%s%N) - t0) / 1000000 )))
  done
  echo "$label: median $(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}') ms of $N (${ts[*]})"
}
spans >/dev/null # the ring keeps the last 100: read it after each part
time_n "run --rm $IMG true" docker run --rm "$IMG" true
sleep 1 # the auto-removal trails the CLI's exit
spans | node "$HERE/spans-summary.mjs"
id=$(docker run -d "$IMG" sleep 3600)
docker exec "$id" true
time_n "exec true" docker exec "$id" true
spans | node "$HERE/spans-summary.mjs" | awk '/^(POST|GET)/{show = /exec/} show'
docker rm -f "$id" >/dev/null
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
