#!/usr/bin/env bash
# berthd's idle memory (issue 18): VmRSS $SETTLE s (default 6) after its first _ping, `-l warn`, no
# containers; N runs (default 3), one daemon at a time. (Until the idle reclaimer's follow-up
# collections, 3 + 2 x 1 s after the last request, the default was 4 s.)
#
#   bench/idle-rss.sh            # N=3
#   BERTHD_NODE_FLAGS='--max-semi-space-size=1' bench/idle-rss.sh   # node's flags instead of bin/berthd's
#   PROBE_V8=1 bench/idle-rss.sh     # also V8's heap by space (the probe adds ~1 MiB of its own)
#   BERTHD_REPO=/path/to/other/checkout bench/idle-rss.sh   # another build's bin/berthd (before/after)
#   SECOND_BOOT=1 bench/idle-rss.sh  # measure a restart on the same data root (a first boot also
#                                    # makes the predefined networks and the engine ID: node:crypto)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
PROBE=$(mktemp /tmp/berth-idle-probe.XXXXXX.cjs)
MEM=$(mktemp /tmp/berth-idle.XXXXXX.json)
trap 'stop_daemons; rm -f "$PROBE" "$MEM"' EXIT
BENCH_REPO=${BERTHD_REPO:-$BENCH_REPO}
cat >"$PROBE" <<'JS'
const fs = require('fs'); const v8 = require('v8');
const mib = (n) => +(n / 1048576).toFixed(1);
process.on('SIGUSR2', () => {
  const m = process.memoryUsage();
  const sp = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name.replace(/_space$/, ''), `${mib(s.space_size)}/${mib(s.space_used_size)}`]));
  fs.writeFileSync(process.env.MEM_OUT, JSON.stringify({ heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), external: mib(m.external), spaces_committed_used: sp }));
});
JS
if [[ -n ${BERTHD_NODE_FLAGS:-} ]]; then
  # start_berthd runs $BENCH_REPO/bin/berthd: a copy of bin/ whose berthd passes these flags instead
  FAKE=$(mktemp -d /tmp/berth-idle-repo.XXXXXX); mkdir "$FAKE/bin"; ln -s "$BENCH_REPO/dist" "$FAKE/dist"
  printf '#!/bin/sh\nexec node %s "%s/dist/bundle/berthd.mjs" "$@"\n' "$BERTHD_NODE_FLAGS" "$FAKE" >"$FAKE/bin/berthd"; chmod +x "$FAKE/bin/berthd"
  trap 'stop_daemons; rm -rf "$PROBE" "$MEM" "$FAKE"' EXIT
  BENCH_REPO=$FAKE
fi
for i in $(seq 1 "${N:-3}"); do
  # the probe only answers a signal: it costs nothing until read, and bin/berthd's own flags stay
  MEM_OUT=$MEM NODE_OPTIONS="${PROBE_V8:+--require $PROBE}" BERTHD_ARGS="${BERTHD_ARGS:---bridge bidle0 --bip 10.241.23.1/24} -l warn" start_berthd || exit 1
  if [[ -n ${SECOND_BOOT:-} ]]; then
    stop_pid "$BERTHD_PID"
    MEM_OUT=$MEM NODE_OPTIONS="${PROBE_V8:+--require $PROBE}" BERTHD_ARGS="${BERTHD_ARGS:---bridge bidle0 --bip 10.241.23.1/24} -l warn" start_berthd || exit 1
  fi
  sleep "${SETTLE:-6}"
  rss=$(awk '/^VmRSS/{printf "%.1f", $2/1024}' "/proc/$BERTHD_PID/status")
  anon=$(awk '/^RssAnon/{printf "%.1f", $2/1024}' "/proc/$BERTHD_PID/status")
  file=$(awk '/^RssFile/{printf "%.1f", $2/1024}' "/proc/$BERTHD_PID/status")
  v8=""
  [[ -n ${PROBE_V8:-} ]] && { kill -USR2 "$BERTHD_PID"; sleep 0.3; v8=" v8 $(cat "$MEM")"; }
  echo "run $i: VmRSS $rss MiB (anon $anon, file $file)$v8"
  stop_daemons
  BENCH_DIR=$(mktemp -d /tmp/berth-bench.XXXXXX); BERTHD_PID=""
done
