#!/usr/bin/env bash
# Clusters side by side (issue 15): berthd and a real dockerd (Debian docker.io,
# /usr/sbin/dockerd with the containerd it starts itself), each as a 3-node
# swarm, measured in the same run.
#   1. setup: `swarm init` on node1 + `swarm join` of node2 and node3 as
#      workers, until `node ls` on node1 shows 3 Ready nodes (a fresh cluster
#      per round)
#   2. overlay: `network create -d overlay --attachable` on node1, a container
#      on node2, then the first `ping -c1` by IP that succeeds from a container
#      on node3 (retried)
#   3. TCP throughput (iperf3, MiB/s) between containers on node2 and node3
#      over the overlay, and the same pair on node2's default bridge (floor)
#
#   ROUNDS=3 REPS=5 SECS=5 bash bench/cluster-side-by-side.sh     (as root, after npm run build)
#   BERTHD=/path/to/bin/berthd ...                                   (another build, e.g. a branch's)
#   SETUP_ONLY=1 ROUNDS=3 bash bench/cluster-side-by-side.sh       (1 and the etcd floor only: no image, overlay or iperf3)
#   SETUP_ONLY=1 KINDS=berth ...                                      (one side only, while iterating)
#
# The image on both sides is lib.sh's busybox plus iperf3 with its libraries:
# the host's iperf3, else Debian's packages fetched by `apt-get download` and
# unpacked (not installed); without either, throughput is not measured.
#
# The layout is the one of test/support/cluster.ts: a LAN network namespace
# with a bridge, and per node a network namespace with a veth eth0 on it and a
# mount namespace whose /sys belongs to that netns (made by the harness's own
# hostMountNamespace, through cluster-ns.mjs). Each daemon runs inside its node's
# namespaces with its own data root, exec root, pid file, socket and cgroup
# parent; dockerd's containerd (socket and state under dockerd's exec root) is
# started by dockerd, which it does only when no system containerd socket
# exists, so the script refuses to run if one does. Nothing is made in the
# host's root network namespace; everything goes at exit, also on failure.
# A berthd without overlay networks gets "n/a (not supported)" for 2 and 3.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SHARED=${SHARED:-$REPO/../shared/bench}
# shellcheck source=/dev/null
. "$SHARED/lib.sh" # make_busybox_rootfs, tar_dir, now_us, stats
ROUNDS=${ROUNDS:-3}
REPS=${REPS:-5}
SECS=${SECS:-5}
SETUP_ONLY=${SETUP_ONLY:-0}
KINDS=${KINDS:-berth docker} # with SETUP_ONLY=1: KINDS=berth to time one side while iterating
DOCKERD=${DOCKERD:-/usr/sbin/dockerd}
BERTHD=${BERTHD:-$REPO/bin/berthd} # another build of berthd, e.g. a branch's
IMG=bench/cluster:1
NA="n/a (not supported)"

# shellcheck source=bench/cluster-lib.sh
. "$HERE/cluster-lib.sh" # cluster_up/_down, swarm_setup, dk, use, med, ratio, row; $WORK and the EXIT trap

cip() { # K NAME NET -> the container's address on NET
  dk "$1" inspect -f "{{(index .NetworkSettings.Networks \"$3\").IPAddress}}" "$2"
}

overlay_ping() { # I -> "TOTAL CREATE RUN PING" ms: from `network create` to the first ping from node3 to a container on node2, and its parts; rc 2: no overlay
  local i=$1 t0 t1 t2 ip n
  now_us t0
  dk 1 network create -d overlay --attachable "ovl$i" >/dev/null 2>"$C/ovl.err" || { log "$(basename "$C"): $(cat "$C/ovl.err")"; return 2; }
  now_us t1
  dk 2 run -d --network "ovl$i" --name "a$i" "$IMG" sleep 3600 >/dev/null
  ip=$(cip 2 "a$i" "ovl$i")
  now_us t2
  for n in $(seq 1 300); do
    dk 3 run --rm --network "ovl$i" "$IMG" ping -c1 -W1 "$ip" >/dev/null 2>&1 && {
      echo "$(ms_since "$t0") $(((t1 - t0) / 1000)) $(((t2 - t1) / 1000)) $(ms_since "$t2")"
      log "$(basename "$C"): ping answered at attempt $n"; break; }
  done
  dk 2 rm -f "a$i" >/dev/null 2>&1 || true
  # never waited for: a lingering attachment only delays the removal
  dk 1 network rm "ovl$i" >/dev/null 2>&1 || true
}

# iperf3 server on node S in NET (named srv-NET); the client on node K, run each round
iperf_server() { # S NET -> address
  dk "$1" run -d --name "srv-$2" --network "$2" "$IMG" iperf3 -s >/dev/null
  cip "$1" "srv-$2" "$2"
}
iperf_client() { # K NET ADDR -> MiB/s received
  local out
  for _ in $(seq 1 20); do
    out=$(dk "$1" run --rm --network "$2" "$IMG" iperf3 -c "$3" -t "$SECS" -f M 2>&1) && break
    sleep 0.5
  done
  awk '/receiver/ {print $(NF-2)}' <<<"$out"
}

make_image() { # busybox (lib.sh) + iperf3 with its libraries, as $WORK/image.tar
  local r=$WORK/rootfs bin libpath="" l
  make_busybox_rootfs "$r"
  bin=$(command -v iperf3 || true)
  if [[ -z $bin ]]; then
    # Debian's package, unpacked here (not installed): apt-get download needs only the mirror
    mkdir -p "$WORK/deb/root"
    (cd "$WORK/deb" && apt-get download iperf3 libiperf0 libsctp1 >/dev/null 2>&1) || log "apt-get download iperf3 failed"
    for l in "$WORK"/deb/*.deb; do [[ -f $l ]] && dpkg-deb -x "$l" "$WORK/deb/root"; done
    [[ -x $WORK/deb/root/usr/bin/iperf3 ]] && bin=$WORK/deb/root/usr/bin/iperf3 libpath=$WORK/deb/root/usr/lib/x86_64-linux-gnu
  fi
  if [[ -n $bin ]]; then
    cp "$bin" "$r/usr/bin/iperf3"
    mkdir -p "$r/usr/lib/x86_64-linux-gnu"
    for l in $(LD_LIBRARY_PATH=$libpath ldd "$bin" | grep -o '/[^ ]*'); do
      if [[ -n $libpath && $l == "$libpath"/* ]]; then cp -L "$l" "$r/usr/lib/x86_64-linux-gnu/"; else mkdir -p "$r/$(dirname "$l")"; cp -L "$l" "$r/$l"; fi
    done
    chroot "$r" /usr/bin/iperf3 --version >/dev/null || { log "iperf3 does not run in the image"; rm -f "$r/usr/bin/iperf3"; }
  fi
  tar_dir "$r" >"$WORK/image.tar"
  [[ -x $r/usr/bin/iperf3 ]]
}

# A floor for berth's init: etcd 3.4 alone, a fresh single member from exec to a healthy
# /health (plain HTTP on loopback, in a network namespace of its own); berthd's init starts
# one (with TLS) and waits for it to serve before it writes the swarm.
etcd_floor() { # -> ms
  rm -rf "$WORK/etcd"
  unshare --net -- bash -c '
    ip link set lo up
    t0=${EPOCHREALTIME/./}
    etcd --data-dir "$1" --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
      --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
      --initial-cluster default=http://127.0.0.1:2380 >/dev/null 2>&1 &
    for _ in $(seq 1 1500); do
      curl -fs http://127.0.0.1:2379/health 2>/dev/null | grep -q "\"health\":\"true\"" && { echo $(((${EPOCHREALTIME/./} - t0) / 1000)); break; }
      sleep 0.02
    done
    kill $! 2>/dev/null; wait' _ "$WORK/etcd"
}


HAVE_IPERF=0
if ((!SETUP_ONLY)); then
  log "image: busybox + iperf3"
  HAVE_IPERF=1
  make_image || { HAVE_IPERF=0; log "no iperf3: throughput is not measured"; }
fi


# 1. setup, a fresh cluster of each kind per round (alternating); the last ones stay up for 2 and 3
declare -A SET=([berth]="" [docker]="") INIT=([berth]="" [docker]="") JOIN=([berth]="" [docker]="") READY=([berth]="" [docker]="")
declare -A LAST
for r in $(seq 1 "$ROUNDS"); do
  for kind in $KINDS; do
    cluster_up_retry "$kind"
    if t=$(swarm_setup); then
      read -r ms a b c <<<"$t"
      SET[$kind]+=" $ms"; INIT[$kind]+=" $a"; JOIN[$kind]+=" $b"; READY[$kind]+=" $c"
      log "setup $kind round $r: $ms ms (init $a, token + 2 joins $b, then Ready $c)"
    else log "setup $kind round $r failed"; fi
    if ((r < ROUNDS)); then cluster_down "$C"; else LAST[$kind]=$C; fi
  done
done

if ((!SETUP_ONLY)); then
  for kind in berth docker; do
    use "${LAST[$kind]}"
    for k in 1 2 3; do dk "$k" import "$WORK/image.tar" "$IMG" >/dev/null; done
  done
fi

ETCD=""
if command -v etcd >/dev/null; then for _ in $(seq 1 "$ROUNDS"); do ETCD+=" $(etcd_floor)"; done; fi

# 2. overlay: time to the first ping across nodes, alternating
declare -A OVL=([berth]="" [docker]="") OVL_OK=([berth]=$((!SETUP_ONLY)) [docker]=$((!SETUP_ONLY))) OC=([berth]="" [docker]="") OR=([berth]="" [docker]="") OP=([berth]="" [docker]="")
for i in $(seq 1 "$REPS"); do
  for kind in berth docker; do
    ((OVL_OK[$kind])) || continue
    use "${LAST[$kind]}"
    rc=0; t=$(overlay_ping "$i") || rc=$?
    if ((rc == 2)); then OVL_OK[$kind]=0; log "$kind: no overlay network"; continue; fi
    read -r ms a b c <<<"$t" || true
    if [[ -n ${ms:-} ]]; then OVL[$kind]+=" $ms"; OC[$kind]+=" $a"; OR[$kind]+=" $b"; OP[$kind]+=" $c"; else log "overlay $kind round $i: no ping within the retries"; fi
    log "overlay $kind round $i: ${ms:-failed} ms (create ${a:-}, run -d on node2 ${b:-}, then the first ping from node3 ${c:-})"
  done
done

# 3. throughput: node3 -> node2 over the overlay; node2 -> node2 on the default bridge (floor)
declare -A TPO=([berth]="" [docker]="") TPB=([berth]="" [docker]="") ADDR_O ADDR_B
if ((HAVE_IPERF)); then
  for kind in berth docker; do
    use "${LAST[$kind]}"
    if ((OVL_OK[$kind])); then
      dk 1 network create -d overlay --attachable tput >/dev/null && ADDR_O[$kind]=$(iperf_server 2 tput) || OVL_OK[$kind]=0
    fi
    ADDR_B[$kind]=$(iperf_server 2 bridge)
  done
  for i in $(seq 1 "$REPS"); do
    for kind in berth docker; do
      use "${LAST[$kind]}"
      if ((OVL_OK[$kind])); then v=$(iperf_client 3 tput "${ADDR_O[$kind]}"); TPO[$kind]+=" $v"; log "overlay throughput $kind round $i: ${v:-failed} MiB/s"; fi
      v=$(iperf_client 2 bridge "${ADDR_B[$kind]}"); TPB[$kind]+=" $v"; log "bridge throughput $kind round $i: ${v:-failed} MiB/s"
    done
  done
fi

# shellcheck disable=SC2086
{
  sb=$(med ${SET[berth]}); sd=$(med ${SET[docker]})
  ib=$(med ${INIT[berth]}); id=$(med ${INIT[docker]})
  jb=$(med ${JOIN[berth]}); jd=$(med ${JOIN[docker]})
  rb=$(med ${READY[berth]}); rd=$(med ${READY[docker]})
  ob=$(med ${OVL[berth]}); od=$(med ${OVL[docker]})
  ocb=$(med ${OC[berth]}); ocd=$(med ${OC[docker]})
  orb=$(med ${OR[berth]}); ord=$(med ${OR[docker]})
  opb=$(med ${OP[berth]}); opd=$(med ${OP[docker]})
  tb=$(med ${TPO[berth]}); td=$(med ${TPO[docker]})
  fb=$(med ${TPB[berth]}); fd=$(med ${TPB[docker]})
}
((OVL_OK[berth] || SETUP_ONLY)) || { ob=$NA; ocb=$NA; orb=$NA; opb=$NA; [[ -z ${TPO[berth]} ]] && tb=$NA; }
((HAVE_IPERF)) || { tb="not measured"; td="not measured"; fb="not measured"; fd="not measured"; }
echo
echo "3-node swarms, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg); medians (all rounds in brackets)"
echo "| metric | dockerd $("$DOCKERD" --version | awk '{print $3}' | tr -d ,) | berthd | berth / docker |"
echo "| --- | --- | --- | --- |"
row "setup: init + 2 worker joins to 3 Ready, ms (fresh cluster, $ROUNDS rounds)" "$sd [${SET[docker]# }]" "$sb [${SET[berth]# }]" "$(ratio "$sb" "$sd")"
row "… of which \`swarm init\`, ms" "$id [${INIT[docker]# }]" "$ib [${INIT[berth]# }]" "$(ratio "$ib" "$id")"
row "… \`join-token\` + 2 \`swarm join\`, ms" "$jd [${JOIN[docker]# }]" "$jb [${JOIN[berth]# }]" "$(ratio "$jb" "$jd")"
row "… then until \`node ls\` shows 3 Ready, ms" "$rd [${READY[docker]# }]" "$rb [${READY[berth]# }]" "$(ratio "$rb" "$rd")"
row "floor: a fresh etcd 3.4 member, exec to healthy, ms" "" "$(med $ETCD) [${ETCD# }]" ""
if ((!SETUP_ONLY)); then
  row "overlay: create to first ping node3 → node2, ms ($REPS rounds)" "$od [${OVL[docker]# }]" "$ob${OVL[berth]:+ [${OVL[berth]# }]}" "$(ratio "$ob" "$od")"
  row "… of which \`network create -d overlay\`, ms" "$ocd [${OC[docker]# }]" "$ocb${OC[berth]:+ [${OC[berth]# }]}" "$(ratio "$ocb" "$ocd")"
  row "… \`run -d --network\` on node2, ms" "$ord [${OR[docker]# }]" "$orb${OR[berth]:+ [${OR[berth]# }]}" "$(ratio "$orb" "$ord")"
  row "… then \`run --rm ... ping\` on node3 until one answers, ms" "$opd [${OP[docker]# }]" "$opb${OP[berth]:+ [${OP[berth]# }]}" "$(ratio "$opb" "$opd")"
  row "overlay TCP node3 → node2, iperf3 ${SECS} s, MiB/s" "$td [${TPO[docker]# }]" "$tb${TPO[berth]:+ [${TPO[berth]# }]}" "$(ratio "$tb" "$td")"
  row "floor: default bridge on node2, iperf3 ${SECS} s, MiB/s" "$fd [${TPB[docker]# }]" "$fb [${TPB[berth]# }]" "$(ratio "$fb" "$fd")"
fi
