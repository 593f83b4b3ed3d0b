# Two berthd, one from each of two berth trees (A = $BASE, built; B = the
# tree of the calling script), each with its own socket, data root and
# private bridge, so a script can alternate between them and both share the
# machine's load. Sourced by the *-ab.sh scripts.
#
#   . bench/ab-daemons.sh; start_ab_daemons; trap stop_ab_daemons EXIT
#   DOCKER_HOST=$(ab_host A) docker run ...
AB_DIR=$(mktemp -d /tmp/berth-ab.XXXXXX)
declare -A AB_PID AB_REPO
AB_REPO[A]=${BASE:?BASE: the other berth tree, built}
AB_REPO[B]=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

ab_host() { echo "unix://$AB_DIR/$1/berth.sock"; }

start_ab_daemons() { # extra berthd arguments
  local w
  for w in A B; do
    mkdir -p "$AB_DIR/$w"; echo '{}' >"$AB_DIR/$w/daemon.json"
    "${AB_REPO[$w]}/bin/berthd" -H "$(ab_host $w)" --data-root "$AB_DIR/$w/data" --exec-root "$AB_DIR/$w/exec" \
      --cgroup-parent /berth-ab --config-file "$AB_DIR/$w/daemon.json" --bridge "bab${w,,}0" "$@" >"$AB_DIR/$w/log" 2>&1 &
    AB_PID[$w]=$!
    for _ in $(seq 1 300); do curl -fs --unix-socket "$AB_DIR/$w/berth.sock" http://x/_ping >/dev/null 2>&1 && break; sleep 0.1; done
    DOCKER_HOST=$(ab_host $w) "${AB_REPO[$w]}/bin/berth" image bootstrap busybox >/dev/null
  done
}

stop_ab_daemons() {
  local w s ids br
  for w in A B; do
    s=$AB_DIR/$w/berth.sock
    if [[ -S $s ]]; then
      ids=$(DOCKER_HOST=unix://$s docker ps -aq 2>/dev/null)
      [[ -n $ids ]] && DOCKER_HOST=unix://$s docker rm -f $ids >/dev/null 2>&1
    fi
    if [[ -n ${AB_PID[$w]:-} ]]; then
      kill -TERM "${AB_PID[$w]}"
      for _ in $(seq 1 300); do kill -0 "${AB_PID[$w]}" 2>/dev/null || break; sleep 0.1; done
    fi
    br=bab${w,,}0
    # the jumps first, then the chains whether or not a jump was still there (a daemon stopped mid-start)
    iptables -D FORWARD -j "BERTH-FWD-$br" 2>/dev/null; iptables -F "BERTH-FWD-$br" 2>/dev/null; iptables -X "BERTH-FWD-$br" 2>/dev/null
    iptables -t nat -D POSTROUTING -j "BERTH-NAT-$br" 2>/dev/null; iptables -t nat -F "BERTH-NAT-$br" 2>/dev/null; iptables -t nat -X "BERTH-NAT-$br" 2>/dev/null
    ip link del "$br" 2>/dev/null
  done
  { grep -o "$AB_DIR[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  for c in /sys/fs/cgroup/*/berth-ab /sys/fs/cgroup/berth-ab; do [[ -d $c ]] && rmdir "$c" 2>/dev/null; done
  rm -rf "$AB_DIR"
  return 0
}
