#!/usr/bin/env bash
# Swarm services side by side (issue 16): berthd and a real dockerd (Debian
# docker.io 20.10, with the containerd it starts itself), each as a 3-node swarm
# (node1 manager, node2 and node3 workers; the layout and daemons of
# cluster-side-by-side.sh, shared through cluster-lib.sh), measured in the same
# run, alternating, a fresh cluster per round and kind:
#   1. `service create --replicas $REPLICAS busybox sleep 1d`
#      a. with -d, polling what `service ls` shows until $REPLICAS/$REPLICAS
#      b. without -d: the CLI's own wait (tasks running, then its fixed 5 s monitor)
#      (a's service is removed, and its containers gone, before b)
#   2. rolling update of b's service: `service update -d --update-parallelism 5
#      --env-add X=<round>`, until UpdateStatus is "completed"
#   3. request rate to a service name: a dnsrr service (`--endpoint-mode dnsrr`,
#      busybox httpd, 2 replicas on the workers) on an attachable overlay, and a
#      client container on node1 doing $REQS sequential `wget` of the name (GNU
#      wget, a process, a DNS lookup and a TCP connection each). Not the default VIP
#      mode: dockerd's VIPs need IPVS, which this kernel lacks (a VIP service's
#      name never answered here); berth's VIP (iptables) is measured alone (3b)
#   4. reschedule: kill -9 of node3's daemon (berthd; dockerd, whose containerd
#      and shims stay, as berth's shims do), until $REPLICAS tasks of 1b's
#      service run on node1 and node2
#
#   ROUNDS=3 bash bench/services-side-by-side.sh          (as root, after npm run build)
#   BERTHD=/path/to/bin/berthd ...                         (another build, e.g. a branch's)
#   KINDS=berth ROUNDS=1 ...                               (one side only, while iterating)
#   LOGS=/tmp/svc-logs ...                                 (keeps each node's daemon log, per kind and round)
#
# The image is lib.sh's busybox, imported into every node as $IMG; services are
# created with --no-resolve-image (no registry here) and dockerd runs with
# DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 so its workers use the local image
# without trying a registry first (berth's agent pulls only a missing image).
# Waiting is done by services-wait.mjs, one process polling the manager's API
# every 100 ms. Everything made goes at exit, also on failure or ^C.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SHARED=${SHARED:-$REPO/../shared/bench}
# shellcheck source=/dev/null
. "$SHARED/lib.sh" # make_busybox_rootfs, tar_dir, now_us, stats
ROUNDS=${ROUNDS:-3}
REPLICAS=${REPLICAS:-30}
REQS=${REQS:-200}
KINDS=${KINDS:-berth docker}
DOCKERD=${DOCKERD:-/usr/sbin/dockerd}
BERTHD=${BERTHD:-$REPO/bin/berthd}
IMG=bench/svc:1
export TIMEOUT_S=${TIMEOUT_S:-300}

# shellcheck source=bench/cluster-lib.sh
. "$HERE/cluster-lib.sh" # cluster_up/_down, swarm_setup, dk, use, med, ratio; $WORK and the EXIT trap

export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
wait_for() { node "$HERE/services-wait.mjs" "$@"; }
sock() { echo "$C/node$1/sock"; }

# lib.sh's busybox, plus the host's GNU wget with its libraries as gwget: the static
# (glibc) busybox's wget crashes on a DNS lookup (getaddrinfo wants libnss), and a
# dynamic glibc resolves through the container's resolv.conf
make_image() {
  local r=$WORK/rootfs l
  make_busybox_rootfs "$r"
  cp /usr/bin/wget "$r/usr/bin/gwget"
  for l in $(ldd /usr/bin/wget | grep -o '/[^ ]*'); do mkdir -p "$r/$(dirname "$l")"; cp -L "$l" "$r/$l"; done
  tar_dir "$r" >"$WORK/image.tar"
}
[[ -x /usr/bin/wget ]] || die "no /usr/bin/wget (apt-get install wget): the request-rate client"
make_image

# $REQS sequential GNU wgets of http://NAME:8080/hostname from container cli on node1 -> requests/s.
# Before the timed loop, 20 that must all answer (every task's DNS entry and path are there).
req_rate() { # NAME
  local out
  out=$(dk 1 exec cli sh -c '
    n=0; while ! gwget -q --tries=1 -O /dev/null -T 2 "http://$1:8080/hostname"; do n=$((n + 1)); [ $n -lt 100 ] || exit 2; sleep 0.2; done
    for i in $(seq 1 20); do gwget -q --tries=1 -O /dev/null -T 5 "http://$1:8080/hostname" || exit 3; done
    a=$(cut -d" " -f1 /proc/uptime)
    i=0; while [ $i -lt "$2" ]; do gwget -q --tries=1 -O /dev/null -T 5 "http://$1:8080/hostname" || exit 4; i=$((i + 1)); done
    b=$(cut -d" " -f1 /proc/uptime)
    echo "$a $b"' _ "$1" "$REQS") || { log "$KIND: requests to $1 failed (rc $?)"; return 1; }
  awk -v n="$REQS" '{ printf "%.0f\n", n / ($2 - $1) }' <<<"$out"
}

# One round on a fresh cluster of KIND; appends to the result lists.
svc_round() { # KIND ROUND
  local kind=$1 r=$2 t0 ms id3 on3 v
  KIND=$kind
  cluster_up_retry "$kind"
  swarm_setup >/dev/null || { log "$kind: swarm setup failed"; return 1; }
  for k in 1 2 3; do dk "$k" import "$WORK/image.tar" "$IMG" >/dev/null || return 1; done

  # 1a. -d, then what `service ls` shows
  now_us t0
  dk 1 service create -d --no-resolve-image --name pre --replicas "$REPLICAS" "$IMG" sleep 1d >/dev/null || return 1
  wait_for replicas "$(sock 1)" pre "$REPLICAS" || return 1
  ms=$(ms_since "$t0"); CD[$kind]+=" $ms"; log "$kind round $r: create -d until $REPLICAS/$REPLICAS: $ms ms"
  dk 1 service rm pre >/dev/null || return 1
  wait_for empty "$(sock 1)" "$(sock 2)" "$(sock 3)" || return 1

  # 1b. the CLI's own wait (its progress display is not a tty here: lines, then "verify: Service converged")
  now_us t0
  timeout "$TIMEOUT_S" docker -H "unix://$(sock 1)" service create --no-resolve-image --name web --replicas "$REPLICAS" "$IMG" sleep 1d >"$C/create.out" 2>&1 ||
    { tail -3 "$C/create.out" >&2; return 1; }
  ms=$(ms_since "$t0"); CW[$kind]+=" $ms"; log "$kind round $r: create (CLI waits): $ms ms"
  wait_for replicas "$(sock 1)" web "$REPLICAS" || return 1

  # 2. rolling update, 5 at a time
  now_us t0
  dk 1 service update -d --update-parallelism 5 --env-add "X=$r" web >/dev/null || return 1
  wait_for updated "$(sock 1)" web || return 1
  ms=$(ms_since "$t0"); UP[$kind]+=" $ms"; log "$kind round $r: rolling update: $ms ms"

  # 3. request rate to a service name, from node1 to tasks on node2 and node3
  dk 1 network create -d overlay --attachable ovl >/dev/null || return 1
  dk 1 service create -d --no-resolve-image --name echo --endpoint-mode dnsrr --network ovl --replicas 2 \
    --constraint node.role==worker "$IMG" httpd -f -p 8080 -h /etc >/dev/null || return 1
  dk 1 run -d --name cli --network ovl "$IMG" sleep 1d >/dev/null || return 1
  wait_for replicas "$(sock 1)" echo 2 || return 1
  if v=$(req_rate echo); then RATE[$kind]+=" $v"; log "$kind round $r: dnsrr name, $REQS requests: $v req/s"; fi
  # 3b. the same through a VIP (the default endpoint mode): berth only, dockerd's needs IPVS
  if [[ $kind == berth ]]; then
    dk 1 service create -d --no-resolve-image --name vecho --network ovl --replicas 2 \
      --constraint node.role==worker "$IMG" httpd -f -p 8080 -h /etc >/dev/null || return 1
    wait_for replicas "$(sock 1)" vecho 2 || return 1
    if v=$(req_rate vecho); then VRATE+=" $v"; log "$kind round $r: VIP name, $REQS requests: $v req/s"; fi
  fi

  # 4. node3's daemon killed: until every replica runs on node1 and node2
  id3=$(dk 3 info -f '{{.Swarm.NodeID}}') || return 1
  on3=$(dk 1 node ps "$id3" -q -f desired-state=running | wc -l)
  now_us t0
  kill -KILL "$(cat "$C/node3/pid")"
  wait_for running "$(sock 1)" web "$REPLICAS" "$id3" || return 1
  ms=$(ms_since "$t0"); RS[$kind]+=" $ms"; log "$kind round $r: $on3 tasks on the killed node, all back on the others after $ms ms"
  ON3[$kind]+=" $on3"
}

declare -A CD=([berth]="" [docker]="") CW=([berth]="" [docker]="") UP=([berth]="" [docker]="") RS=([berth]="" [docker]="") \
  RATE=([berth]="" [docker]="") ON3=([berth]="" [docker]="")
VRATE=""
for r in $(seq 1 "$ROUNDS"); do
  order=$KINDS
  # the side that goes first alternates between rounds
  ((r % 2)) || order=$(tr ' ' '\n' <<<"$KINDS" | tac | xargs)
  for kind in $order; do
    svc_round "$kind" "$r" || log "$kind round $r failed (the figures it reached are kept)"
    if [[ -n ${LOGS:-} ]]; then mkdir -p "$LOGS/$kind-$r"; for k in 1 2 3; do cp "$C/node$k/log" "$LOGS/$kind-$r/node$k.log" 2>/dev/null || true; done; fi
    cluster_down "$C"
  done
done

# shellcheck disable=SC2086
{
  cdb=$(med ${CD[berth]}); cdd=$(med ${CD[docker]})
  cwb=$(med ${CW[berth]}); cwd=$(med ${CW[docker]})
  upb=$(med ${UP[berth]}); upd=$(med ${UP[docker]})
  rsb=$(med ${RS[berth]}); rsd=$(med ${RS[docker]})
  rtb=$(med ${RATE[berth]}); rtd=$(med ${RATE[docker]})
}
echo
echo "3-node swarms, services, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg); medians of $ROUNDS rounds (all rounds in brackets)"
echo "| metric | dockerd $("$DOCKERD" --version | awk '{print $3}' | tr -d ,) | berthd | berth / docker |"
echo "| --- | --- | --- | --- |"
row "\`service create -d --replicas $REPLICAS\` until \`service ls\` shows $REPLICAS/$REPLICAS, ms" "$cdd [${CD[docker]# }]" "$cdb [${CD[berth]# }]" "$(ratio "$cdb" "$cdd")"
row "\`service create --replicas $REPLICAS\` (CLI waits, incl. its 5 s monitor), ms" "$cwd [${CW[docker]# }]" "$cwb [${CW[berth]# }]" "$(ratio "$cwb" "$cwd")"
row "rolling update, \`--update-parallelism 5 --env-add\`, until completed, ms" "$upd [${UP[docker]# }]" "$upb [${UP[berth]# }]" "$(ratio "$upb" "$upd")"
row "kill -9 of a worker's daemon (tasks on it: [${ON3[docker]# }] / [${ON3[berth]# }]) until $REPLICAS run on the others, ms" "$rsd [${RS[docker]# }]" "$rsb [${RS[berth]# }]" "$(ratio "$rsb" "$rsd")"
row "dnsrr service name, $REQS sequential \`wget\` across the overlay, req/s" "$rtd [${RATE[docker]# }]" "$rtb [${RATE[berth]# }]" "$(ratio "$rtb" "$rtd")"
# shellcheck disable=SC2086
row "VIP service name (default mode), the same requests, req/s" "(no IPVS in this kernel)" "$(med $VRATE) [${VRATE# }]" "-"
