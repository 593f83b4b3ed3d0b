#!/usr/bin/env bash
# berthd's memory: idle, right after a ps/logs workload, and after IDLE seconds of quiet.
# A --require probe writes process.memoryUsage() and V8's space sizes every 0.5 s.
#
#   bench/rss-after-workload.sh            # NC=300 containers, IDLE=20
#   BERTHD_REPO=/path/to/other/checkout bench/rss-after-workload.sh   # another build (before/after)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED_BENCH=${SHARED_BENCH:-$HERE/../../shared/bench}
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
BENCH_REPO=${BERTHD_REPO:-$BENCH_REPO}
PROBE=$(mktemp /tmp/berth-rss-probe.XXXXXX.cjs)
MEM=$(mktemp /tmp/berth-rss.XXXXXX.json)
trap 'stop_daemons; rm -f "$PROBE" "$MEM"' EXIT
cat >"$PROBE" <<'JS'
const fs = require('fs'); const v8 = require('v8');
const mib = (n) => +(n / 1048576).toFixed(1);
setInterval(() => {
  const m = process.memoryUsage();
  const sp = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, mib(s.space_size)]));
  fs.writeFileSync(process.env.MEM_OUT, JSON.stringify({ rss: mib(m.rss), heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), arrayBuffers: mib(m.arrayBuffers), new: sp.new_space, old: sp.old_space }));
}, 500).unref();
JS
MEM_OUT=$MEM NODE_OPTIONS="--require $PROBE" BERTHD_ARGS="${BERTHD_ARGS:---bridge brss0 --bip 10.241.19.1/24}" start_berthd
export DOCKER_HOST=$BERTH_HOST_URL
IMG=bench/busybox:latest
# shellcheck source=/dev/null
. "$SHARED_BENCH/lib.sh"
W=$(mktemp -d); make_busybox_rootfs "$W/rootfs"; tar_dir "$W/rootfs" | docker import --change 'CMD ["sh"]' - $IMG >/dev/null; rm -rf "$W"
sleep 5; echo "idle_start $(cat "$MEM")"
seq "${NC:-300}" | xargs -P 4 -I{} docker create $IMG true >/dev/null
for _ in 1 2 3; do docker ps -a >/dev/null; done
docker rm -f $(docker ps -aq) >/dev/null
id=$(docker run -d $IMG seq 1 100000); docker wait "$id" >/dev/null
for _ in 1 2 3; do docker logs "$id" >/dev/null; done
docker rm -f "$id" >/dev/null
echo "after $(cat "$MEM")"
sleep "${IDLE:-20}"; echo "idle_end $(cat "$MEM")"
