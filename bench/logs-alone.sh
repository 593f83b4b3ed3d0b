#!/usr/bin/env bash
# `docker logs` of a 100k-line container against berthd alone (issue 18): N x (raw API with curl,
# which gets a frame per line; `docker logs`; `docker version`), medians in ms. BERTHD_REPO=another
# checkout measures its build instead (before/after, run alternately).
#
#   N=7 bench/logs-alone.sh
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED_BENCH=${SHARED_BENCH:-$HERE/../../shared/bench}
# shellcheck source=/dev/null
. "$SHARED_BENCH/lib.sh"
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
BENCH_REPO=${BERTHD_REPO:-$BENCH_REPO}
trap 'stop_daemons' EXIT
BERTHD_ARGS="${BERTHD_ARGS:---bridge blogs0 --bip 10.241.25.1/24} -l warn" start_berthd || exit 1
export DOCKER_HOST=$BERTH_HOST_URL
W=$(mktemp -d); make_busybox_rootfs "$W/rootfs"; tar -C "$W/rootfs" -c . | docker import - bench/busybox:latest >/dev/null; rm -rf "$W"
id=$(docker run -d --network none bench/busybox:latest seq 1 "${LOG_LINES:-100000}"); docker wait "$id" >/dev/null
echo "lines: $(docker logs "$id" | wc -l)"
SOCK=${BERTH_HOST_URL#unix://}
OUT=$(mktemp)
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
for _ in $(seq 1 "${N:-7}"); do
  echo "curl $(ms curl -s --unix-socket "$SOCK" "http://x/containers/$id/logs?stdout=1&stderr=1")"
  echo "docker_logs $(ms docker logs "$id")"
  echo "docker_version $(ms docker version)"
done >"$OUT"
for m in curl docker_logs docker_version; do
  echo "$m $(grep "^$m " "$OUT" | cut -d' ' -f2 | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}') ms"
done
rm -f "$OUT"
docker rm -f "$id" >/dev/null; docker rmi bench/busybox:latest >/dev/null
