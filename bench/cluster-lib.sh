# shellcheck shell=bash
# 3-node swarms of berthd or dockerd in network namespaces, for the cluster
# benchmarks (cluster-side-by-side.sh, services-side-by-side.sh). Source it
# after ../shared/bench/lib.sh, with HERE, REPO, DOCKERD and BERTHD set; it
# checks the machine, makes $WORK and sets the EXIT trap that ends every
# cluster it started (see cluster-side-by-side.sh's header for the layout).
[[ $(id -u) == 0 ]] || die "run as root"
[[ -x $BERTHD && -f $REPO/dist/test/support/netns.js ]] || die "build first: npm run build"
[[ -x $DOCKERD ]] || die "no $DOCKERD (apt-get install docker.io)"
# dockerd would use a system containerd found there instead of starting its own
[[ -e /run/containerd/containerd.sock ]] && die "a system containerd is running (/run/containerd/containerd.sock); not touching it"

WORK=$(mktemp -d /tmp/berth-bench-cluster.XXXXXX)
# namespace files cannot sit on a shared mount; nothing made below may reach other mounts
mount --bind "$WORK" "$WORK"
mount --make-private "$WORK"
CLUSTERS=()

ns_inode() { stat -L -c %i "$1" 2>/dev/null || true; }

# Ends what a cluster started (by pid: its daemons, then whatever is left in its
# namespaces and cgroup parents), unmounts everything under its dir, removes it.
cluster_down() { # DIR
  local c=$1 n pid ids inodes p cg _
  local -
  set +e +o pipefail
  [[ -d $c ]] || return 0
  for n in "$c"/node?; do
    [[ -S $n/sock ]] && curl -fsm5 --unix-socket "$n/sock" http://x/_ping >/dev/null 2>&1 || continue
    ids=$(timeout 30 docker -H "unix://$n/sock" ps -aq 2>/dev/null || true)
    # shellcheck disable=SC2086
    [[ -n $ids ]] && { timeout 60 docker -H "unix://$n/sock" rm -f $ids >/dev/null 2>&1 || true; }
  done
  for n in "$c"/node?; do [[ -f $n/pid ]] && kill -TERM "$(cat "$n/pid")" 2>/dev/null || true; done
  for n in "$c"/node?; do
    [[ -f $n/pid ]] || continue
    pid=$(cat "$n/pid")
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  # containerd, shims, etcd: every process still inside a node namespace is ours (the
  # namespace files are still mounted here, so no other namespace can have their ids)
  # (one find over /proc: a readlink per process took tens of seconds on a loaded machine)
  inodes=()
  for n in "$c"/node?; do inodes+=(-o -lname "net:\[$(ns_inode "$n.net")\]" -o -lname "mnt:\[$(ns_inode "$n/mnt.ns")\]"); done
  for _ in 1 2 3; do
    find /proc/[0-9]*/ns -maxdepth 1 \( "${inodes[@]:1}" \) 2>/dev/null | cut -d/ -f3 | sort -u | while read -r p; do kill -KILL "$p" 2>/dev/null; done
    for n in "$c"/node?; do
      cg=$(cat "$n/cgroup" 2>/dev/null) || continue
      cat /sys/fs/cgroup/pids"$cg"/*/cgroup.procs /sys/fs/cgroup/memory"$cg"/*/cgroup.procs 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
    done
    sleep 0.3
  done
  { grep -o " $c[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  for n in "$c"/node?; do
    cg=$(cat "$n/cgroup" 2>/dev/null) || continue
    for d in /sys/fs/cgroup/*"$cg"; do [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
  done
  rm -rf "$c"
}

finish() {
  set +e
  for c in "${CLUSTERS[@]}"; do cluster_down "$c"; done
  umount -l "$WORK" 2>/dev/null
  rm -rf "$WORK" "$_RES_FILE"
}
trap finish EXIT
trap 'exit 130' INT TERM

node_up() { # KIND K IP : namespaces, then the daemon started (not waited for)
  local kind=$1 k=$2 ip=$3 n=$C/node$2 r
  mkdir -p "$n/data" "$n/exec"
  echo '{}' >"$n/daemon.json"
  echo "/berth-bench-$(basename "$C")-$k" >"$n/cgroup"
  touch "$n.net"
  unshare --net="$n.net" -- ip link set lo up
  nsenter --net="$C/lan" -- sh -ec "ip link add p$k type veth peer name eth0 netns $n.net; ip link set p$k master br0 up"
  nsenter --net="$n.net" -- sh -ec "ip addr add $ip/24 dev eth0; ip link set eth0 up"
  # shared roots as in the harness: what a daemon mounts there is seen (and unmounted) from here
  for r in data exec; do mount --bind "$n/$r" "$n/$r"; mount --make-shared "$n/$r"; done
  node "$HERE/cluster-ns.mjs" mountns "$n/mnt.ns" "$n.net" "$n"
  local run=(nsenter --net="$n.net" --mount="$n/mnt.ns" --)
  if [[ $kind == berth ]]; then
    "${run[@]}" "$BERTHD" -H "unix://$n/sock" --data-root "$n/data" --exec-root "$n/exec" \
      --cgroup-parent "$(cat "$n/cgroup")" --config-file "$n/daemon.json" >"$n/log" 2>&1 &
  else
    "${run[@]}" "$DOCKERD" -H "unix://$n/sock" --data-root "$n/data" --exec-root "$n/exec" \
      --pidfile "$n/docker.pid" --cgroup-parent "$(cat "$n/cgroup")" --config-file "$n/daemon.json" >"$n/log" 2>&1 &
  fi
  # nsenter execs the daemon: this is its pid (berthd writes no pid file of its own)
  echo $! >"$n/pid"
}

cluster_up() { # KIND : a LAN and 3 nodes with their daemons answering; sets C and NIP
  local kind=$1 k p n
  C=$(mktemp -d "$WORK/$kind.XXXX")
  CLUSTERS+=("$C")
  p="10.$((150 + RANDOM % 50)).$((RANDOM % 256))"
  touch "$C/lan"
  unshare --net="$C/lan" -- sh -ec 'ip link set lo up; ip link add br0 type bridge; ip link set br0 up'
  NIP=("")
  for k in 1 2 3; do NIP+=("$p.$((10 + k))"); node_up "$kind" "$k" "${NIP[k]}"; done
  for k in 1 2 3; do
    n=$C/node$k
    for _ in $(seq 1 600); do
      curl -fs --unix-socket "$n/sock" http://x/_ping >/dev/null 2>&1 && continue 2
      kill -0 "$(cat "$n/pid")" 2>/dev/null || { tail -5 "$n/log" >&2; log "$kind node$k exited at start"; return 1; }
      sleep 0.1
    done
    tail -5 "$n/log" >&2; log "$kind node$k did not answer in 60 s"; return 1
  done
  echo "$C ${NIP[*]}" >"$C/nodes"
}

use() { # CLUSTER_DIR : dk talks to its nodes
  C=$1
  read -r _ n1 n2 n3 <"$C/nodes" || true
  NIP=("" "$n1" "$n2" "$n3")
}
dk() { local k=$1; shift; timeout 180 docker -H "unix://$C/node$k/sock" "$@"; }
ms_since() { local t; now_us t; echo $(((t - $1) / 1000)); }

swarm_setup() { # -> "TOTAL INIT JOINS READY" ms: from `swarm init` to 3 Ready nodes in `node ls`, and its parts
  local t0 t1 t2 tok k
  now_us t0
  dk 1 swarm init --advertise-addr "${NIP[1]}" >/dev/null || return 1
  now_us t1
  tok=$(dk 1 swarm join-token -q worker) || return 1
  for k in 2 3; do dk "$k" swarm join --token "$tok" --advertise-addr "${NIP[k]}" "${NIP[1]}:2377" >/dev/null || return 1; done
  now_us t2
  for _ in $(seq 1 2400); do
    [[ $(dk 1 node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$') == 3 ]] && {
      echo "$(ms_since "$t0") $(((t1 - t0) / 1000)) $(((t2 - t1) / 1000)) $(ms_since "$t2")"; return 0; }
    sleep 0.05
  done
  log "3 Ready nodes not seen in 120 s"; return 1
}

med() { printf '%s\n' "$@" | { grep -E '^[0-9.]+$' || true; } | stats | awk '$1 != "nan" {print $1}'; }
ratio() { # B D -> B / D, or - when either is no figure
  [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]] || { echo -; return; }
  awk -v b="$1" -v d="$2" 'BEGIN { if (d == 0) print "-"; else printf "%.2f\n", b / d }'
}
row() { printf '| %s | %s | %s | %s |\n' "$1" "${2:--}" "${3:--}" "$4"; } # a markdown table row; a missing figure shows as -

# A daemon SIGKILLed at start from outside was seen twice, while cluster tests of other
# worktrees tore down (see test/support/cluster.ts endProcesses): one more try
cluster_up_retry() { # KIND
  cluster_up "$1" && return 0
  cluster_down "$C"
  log "$1: a fresh cluster once more"
  cluster_up "$1" || die "$1: the cluster did not start twice"
}
