#!/usr/bin/env bash
# berthd's CRI beside containerd 1.6's CRI plugin (Debian's containerd), on the
# same machine, through the same client (berth's CRI client, cri-bench.mjs):
#   - latency: RunPodSandbox, container create+start, pod stop+remove, and the
#     sandbox run+stop+remove; medians of N pods per round, the two daemons
#     alternating in ROUNDS rounds (the machine is shared and loaded);
#   - memory with PODS pods (one `sleep` container each): the daemon, its
#     helper processes and its shims (PSS, and RSS).
# Each daemon runs on its own root, state, socket and network; no system
# daemon is touched. containerd gets a config of its own (CRI plugin on, its
# streaming server on a random loopback port, CNI from /usr/lib/cni with a
# bridge of its own, no masquerading) and the same two images as berth:
# berth's offline pause image and its busybox, saved from berth and imported
# with `ctr -n k8s.io images import`.
#
#   N=10 ROUNDS=3 PODS=50 bench/cri-side-by-side.sh    (root; after npm run build)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/daemons.sh"
N=${N:-10}
ROUNDS=${ROUNDS:-3}
PODS=${PODS:-50}
CTD=$BENCH_DIR/containerd
CTD_SOCK=$CTD/containerd.sock
CTD_BRIDGE=bcrictd0
CTD_PID=""
RESULTS=$BENCH_REPO/bench/results
mkdir -p "$RESULTS"
OUT=$RESULTS/cri-$(date -u +%Y%m%dT%H%M%SZ).jsonl

finish() {
  set +e
  # pods first, while both daemons still answer
  for s in "$BENCH_DIR/berth-cri.sock" "$CTD_SOCK"; do
    [[ -S $s ]] && node --input-type=module -e '
      const { CriClient } = await import(process.argv[1]);
      const c = new CriClient(process.argv[2]);
      for (const p of (await c.runtime("ListPodSandbox", {})).items ?? []) {
        await c.runtime("StopPodSandbox", { pod_sandbox_id: p.id }).catch(() => {});
        await c.runtime("RemovePodSandbox", { pod_sandbox_id: p.id }).catch(() => {});
      }
      c.close();' "$BENCH_REPO/dist/test/support/cri-client.js" "$s" 2>/dev/null
  done
  stop_pid "$CTD_PID"
  # containerd's shims outlive it by design: end the ones of this run (their command line names our socket), by pid
  for p in /proc/[0-9]*; do
    grep -qF -- "$CTD_SOCK" "$p/cmdline" 2>/dev/null && grep -qF containerd-shim "$p/cmdline" 2>/dev/null && kill -TERM "${p#/proc/}" 2>/dev/null
  done
  { grep -o "$CTD[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  ip link del "$CTD_BRIDGE" 2>/dev/null
  for d in /sys/fs/cgroup/*/bench-cri-ctd /sys/fs/cgroup/*/bench-cri-berth; do [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  stop_daemons
}
trap finish EXIT

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT.txt"

# --- berthd with its CRI on its own socket and bridge
BERTHD_ARGS="--bridge bcriberth0 --bip 10.240.91.1/24 --cri-socket $BENCH_DIR/berth-cri.sock" start_berthd
export DOCKER_HOST=$BERTH_HOST_URL
"$BENCH_REPO/bin/berth" image bootstrap busybox:latest >/dev/null
# berth makes its offline pause image at the first pod: one warm-up pod through its CRI
node "$BENCH_REPO/bench/cri-bench.mjs" latency --socket "$BENCH_DIR/berth-cri.sock" --cgroup-parent /bench-cri-berth --n 0 --logs "$BENCH_DIR/logs-berth" >/dev/null
docker save -o "$BENCH_DIR/images.tar" registry.k8s.io/pause:3.10 busybox:latest

# --- containerd with its CRI plugin, on its own root, state and socket
mkdir -p "$CTD/cni" "$CTD/opt"
cat >"$CTD/cni/10-bench.conflist" <<EOF
{ "cniVersion": "1.0.0", "name": "bench-cri", "plugins": [
  { "type": "bridge", "bridge": "$CTD_BRIDGE", "isGateway": true, "ipMasq": false,
    "ipam": { "type": "host-local", "ranges": [[{ "subnet": "10.240.92.0/24" }]], "dataDir": "$CTD/ipam" } },
  { "type": "loopback" } ] }
EOF
cat >"$CTD/config.toml" <<EOF
version = 2
root = "$CTD/root"
state = "$CTD/state"
[grpc]
  address = "$CTD_SOCK"
[ttrpc]
  address = "$CTD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTD/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  # this machine runs in a container that may not lower oom_score_adj: the sandbox's -998 is refused without this
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CTD/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
EOF
containerd --config "$CTD/config.toml" >"$BENCH_DIR/containerd.log" 2>&1 &
CTD_PID=$!
for _ in $(seq 1 200); do [[ -S $CTD_SOCK ]] && ctr -a "$CTD_SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
ctr -a "$CTD_SOCK" -n k8s.io images import "$BENCH_DIR/images.tar" >/dev/null
node "$BENCH_REPO/bench/cri-bench.mjs" latency --socket "$CTD_SOCK" --cgroup-parent /bench-cri-ctd --n 0 --logs "$BENCH_DIR/logs-ctd" >/dev/null

# --- latency, alternating
for r in $(seq 1 "$ROUNDS"); do
  for who in berth containerd; do
    sock=$BENCH_DIR/berth-cri.sock cg=/bench-cri-berth; [[ $who == containerd ]] && sock=$CTD_SOCK cg=/bench-cri-ctd
    line=$(node "$BENCH_REPO/bench/cri-bench.mjs" latency --socket "$sock" --cgroup-parent "$cg" --n "$N" --logs "$BENCH_DIR/logs-$who")
    echo "{\"daemon\":\"$who\",\"round\":$r,\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\",\"result\":$line}" | tee -a "$OUT"
  done
done

# --- memory with $PODS pods, one daemon at a time
line=$(node "$BENCH_REPO/bench/cri-bench.mjs" memory --socket "$BENCH_DIR/berth-cri.sock" --cgroup-parent /bench-cri-berth --pods "$PODS" --logs "$BENCH_DIR/logs-berth" \
  --daemon-pid "$BERTHD_PID" --shim-match "berth:$BENCH_DIR/berth/exec")
echo "{\"daemon\":\"berth\",\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\",\"result\":$line}" | tee -a "$OUT"
line=$(node "$BENCH_REPO/bench/cri-bench.mjs" memory --socket "$CTD_SOCK" --cgroup-parent /bench-cri-ctd --pods "$PODS" --logs "$BENCH_DIR/logs-ctd" \
  --daemon-pid "$CTD_PID" --shim-match "$CTD_SOCK")
echo "{\"daemon\":\"containerd\",\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\",\"result\":$line}" | tee -a "$OUT"
echo "== results in $OUT"
