#!/usr/bin/env bash
# Engine API transport, side by side: request latency (`GET /_ping`,
# `GET /containers/json`) over the unix socket and over mutual TLS, the rate
# 50 concurrent keep-alive clients sustain, and the cost of a fresh TLS
# connection, for berthd and a real dockerd started here (bench/daemons.sh,
# BENCH_TLS=1), in the same run, alternating rounds. The load client is
# bench/api-load.mjs (wrk speaks neither unix sockets nor client certificates).
#
#   bench/api-side-by-side.sh                  # ROUNDS=3 N=2000 SECONDS_RATE=5 CONTAINERS=20
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export BENCH_TLS=1
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
trap stop_daemons EXIT

ROUNDS=${ROUNDS:-3}
N=${N:-2000}
SECONDS_RATE=${SECONDS_RATE:-5}
CLIENTS=${CLIENTS:-50}
CONTAINERS=${CONTAINERS:-20}
OUT=${OUT:-$HERE/results/api-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
LOAD="node $HERE/api-load.mjs"
LIST='/v1.41/containers/json?all=1'

start_berthd
start_dockerd

# the same tiny image and $CONTAINERS created (never started) containers in each daemon
mkdir -p "$BENCH_DIR/img" && echo bench >"$BENCH_DIR/img/file"
for h in "$BERTH_HOST_URL" "$DOCKER_HOST_URL"; do
  tar -C "$BENCH_DIR/img" -c file | DOCKER_HOST=$h docker import --change 'CMD ["true"]' - bench/api:1 >/dev/null
  for i in $(seq 1 "$CONTAINERS"); do DOCKER_HOST=$h docker create --name "api-$i" bench/api:1 >/dev/null; done
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime, in clock ticks

measure() { # NAME SOCK PORT PID -> JSON lines in $OUT/NAME-ROUND.jsonl
  local name=$1 sock=$2 port=$3 pid=$4 file=$OUT/$1-$r.jsonl hz
  hz=$(getconf CLK_TCK)
  for t in unix tls; do
    if [[ $t == unix ]]; then target=(--unix "$sock"); else target=(--tls "127.0.0.1:$port" --certs "$BENCH_CERTS"); fi
    for p in /_ping "$LIST"; do
      $LOAD "${target[@]}" --path "$p" --mode latency --requests "$N" | sed "s/^{/{\"daemon\":\"$name\",\"transport\":\"$t\",/" >>"$file"
      # the daemon's own CPU time per request: robust when other work shares the machine
      c0=$(cpu_ticks "$pid")
      line=$($LOAD "${target[@]}" --path "$p" --mode rate --clients "$CLIENTS" --seconds "$SECONDS_RATE" --warmup 0)
      c1=$(cpu_ticks "$pid")
      n=$(sed 's/.*"requests":\([0-9]*\).*/\1/' <<<"$line")
      cpu=$(( (c1 - c0) * 1000000 / hz / n ))
      sed "s/^{/{\"daemon\":\"$name\",\"transport\":\"$t\",\"cpu_us\":$cpu,/" <<<"$line" >>"$file"
    done
  done
  $LOAD --tls "127.0.0.1:$port" --certs "$BENCH_CERTS" --path /_ping --mode handshake --requests 300 --warmup 20 | sed "s/^{/{\"daemon\":\"$name\",\"transport\":\"tls\",/" >>"$file"
}

for r in $(seq 1 "$ROUNDS"); do
  measure docker "$BENCH_DIR/docker.sock" "$DOCKER_TLS_PORT" "$DOCKERD_PID"
  measure berth "$BENCH_DIR/berth.sock" "$BERTH_TLS_PORT" "$BERTHD_PID"
done

echo "A = dockerd $(DOCKER_HOST=$DOCKER_HOST_URL docker version --format '{{.Server.Version}}'), B = berthd; $ROUNDS rounds, medians; results in $OUT"
node - "$OUT" <<'NODE'
const { readdirSync, readFileSync } = require('node:fs');
const dir = process.argv[2];
const rows = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readFileSync(`${dir}/${f}`, 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const key = (r) => `${r.mode === 'rate' ? `rate, ${r.clients} clients` : r.mode === 'handshake' ? 'new TLS connection + request' : 'latency p50'} | ${r.path.replace('/v1.41', '').replace('?all=1', '')} | ${r.transport}`;
const metric = (r) => (r.mode === 'rate' ? r.rps : r.p50_ms);
const groups = new Map();
const add = (k, r, v, unit) => {
  const g = groups.get(k) ?? { docker: [], berth: [], unit };
  g[r.daemon].push(v);
  groups.set(k, g);
};
for (const r of rows) {
  add(key(r), r, metric(r), r.mode === 'rate' ? 'req/s' : 'ms');
  if (r.cpu_us !== undefined) add(key(r).replace(/^rate/, 'daemon CPU per request'), r, r.cpu_us, 'µs');
}
console.log('| metric | path | transport | dockerd | berthd | berth/docker |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [k, g] of groups) {
  const a = median(g.docker), b = median(g.berth);
  console.log(`| ${k} | ${a} ${g.unit} | ${b} ${g.unit} | ${(b / a).toFixed(2)} |`);
}
NODE
