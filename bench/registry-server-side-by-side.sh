#!/usr/bin/env bash
# berth-registry beside CNCF distribution 2.8.2 (Debian docker-registry), both
# started here on 127.0.0.1 with their own filesystem roots, in one run:
#   ../shared/bench/registry.sh against each (skopeo push / pull / 8 concurrent
#   pulls of a 500 MB 5-layer image, registry RSS, sha256 and disk floors), then
#   wrk on a manifest GET and a 1-byte ranged blob GET (requests/s, 4
#   connections, 10 s). wrk waits for a body after HEAD, so blob HEADs are not
#   measured with it.
#
#   bench/registry-server-side-by-side.sh       # LAYER_MB=100 LAYERS=5, WRK_S=10
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SHARED=${SHARED_BENCH:-$REPO/../shared/bench}
W=$(mktemp -d /tmp/berth-regbench.XXXXXX)
WRK_S=${WRK_S:-10}
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_up() { for _ in $(seq 1 100); do curl -fs "http://$1/v2/" >/dev/null && return 0; sleep 0.1; done; echo "$1 did not start" >&2; return 1; }

DIST_PORT=$(free_port)
mkdir -p "$W/dist"
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n  secret: bench\n' "$W/dist/data" "$DIST_PORT" >"$W/dist/config.yml"
docker-registry serve "$W/dist/config.yml" >"$W/dist.log" 2>&1 &
DIST_PID=$!; PIDS+=("$DIST_PID")
BERTH_PORT=$(free_port)
"$REPO/bin/berth-registry" serve --addr "127.0.0.1:$BERTH_PORT" --root "$W/berth" --quiet >"$W/berth.log" 2>&1 &
BERTH_PID=$!; PIDS+=("$BERTH_PID")
wait_up "127.0.0.1:$DIST_PORT"
wait_up "127.0.0.1:$BERTH_PORT"

for who in dist berth; do
  if [[ $who == dist ]]; then port=$DIST_PORT pid=$DIST_PID; else port=$BERTH_PORT pid=$BERTH_PID; fi
  # its own session: registry.sh's watchdog signals its process group at the end
  REGISTRY=127.0.0.1:$port REGISTRY_PID=$pid RESULTS="$W/$who.json" setsid bash "$SHARED/registry.sh" >"$W/$who.out" 2>&1
done

# small requests: HEAD of a blob and GET of a manifest that both registries hold (pushed by registry.sh)
rps() { # URL METHOD ACCEPT [RANGE]
  local script="$W/req.lua"
  printf 'wrk.method = "%s"\nwrk.headers["Accept"] = "%s"\n' "$2" "$3" >"$script"
  [[ -n ${4:-} ]] && printf 'wrk.headers["Range"] = "%s"\n' "$4" >>"$script"
  wrk -t2 -c4 -d"${WRK_S}s" -s "$script" "$1" 2>/dev/null | awk '/Requests\/sec/ {printf "%.0f", $2}'
}
declare -A R
for who in dist berth; do
  if [[ $who == dist ]]; then port=$DIST_PORT pid=$DIST_PID; else port=$BERTH_PORT pid=$BERTH_PID; fi
  repo=$(curl -fs "http://127.0.0.1:$port/v2/_catalog" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).repositories[0]))')
  tag=$(curl -fs "http://127.0.0.1:$port/v2/$repo/tags/list" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).tags[0]))')
  accept='application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json'
  layer=$(curl -fs -H "Accept: $accept" "http://127.0.0.1:$port/v2/$repo/manifests/$tag" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).layers[0].digest))')
  R[$who.range]=$(rps "http://127.0.0.1:$port/v2/$repo/blobs/$layer" GET '*/*' 'bytes=0-0')
  R[$who.manifest]=$(rps "http://127.0.0.1:$port/v2/$repo/manifests/$tag" GET "$accept")
  R[$who.rss]=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$pid/status")
done

echo "== distribution 2.8.2 (registry.sh)"; cat "$W/dist.out" | tail -15
echo "== berth-registry (registry.sh)"; cat "$W/berth.out" | tail -15
echo "== compare (berth / distribution)"; node "$SHARED/compare.mjs" "$W/dist.json" -- "$W/berth.json" 2>/dev/null || true
printf '%-32s %12s %12s %8s\n' metric distribution berth ratio
for m in range manifest; do
  printf '%-32s %12s %12s %8s\n' "$m (req/s, wrk -c4 ${WRK_S}s)" "${R[dist.$m]}" "${R[berth.$m]}" "$(awk -v a="${R[dist.$m]}" -v b="${R[berth.$m]}" 'BEGIN {printf "%.2f", b/a}')"
done
printf '%-32s %12s %12s\n' "RSS after the load (MiB)" "${R[dist.rss]}" "${R[berth.rss]}"
