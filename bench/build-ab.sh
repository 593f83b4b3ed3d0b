#!/usr/bin/env bash
# A/B of two berth trees on the bench Dockerfile of build-side-by-side.sh: a
# berthd --debug from each (own socket, data root, private bridge), `berth
# build` cold / fully cached / one file changed, alternating between them in
# each round so both share the load; each has its own copy of the context.
# The spans of both daemons are left in $OUT/spans-{A,B}.json.
#
#   BASE=/tmp/base-tree N=5 bench/build-ab.sh   # A = BASE (built), B = this tree
set -uo pipefail
N=${N:-3}
OUT=${OUT:-$PWD}
D=$(mktemp -d /tmp/berth-build-ab.XXXXXX)
declare -A PID REPO
REPO[A]=${BASE:?BASE: the other berth tree, built}; REPO[B]=$(cd "$(dirname "$0")/.." && pwd)
cleanup() {
  for w in A B; do
    s=$D/$w/berth.sock
    [[ -S $s ]] && { ids=$(DOCKER_HOST=unix://$s docker ps -aq 2>/dev/null); [[ -n $ids ]] && DOCKER_HOST=unix://$s docker rm -f $ids >/dev/null 2>&1; }
    [[ -n ${PID[$w]:-} ]] && { kill -TERM ${PID[$w]}; for _ in $(seq 1 300); do kill -0 ${PID[$w]} 2>/dev/null || break; sleep 0.1; done; }
    br=bab${w,,}0
    iptables -D FORWARD -j "BERTH-FWD-$br" 2>/dev/null && { iptables -F "BERTH-FWD-$br"; iptables -X "BERTH-FWD-$br"; } 2>/dev/null
    iptables -t nat -D POSTROUTING -j "BERTH-NAT-$br" 2>/dev/null && { iptables -t nat -F "BERTH-NAT-$br"; iptables -t nat -X "BERTH-NAT-$br"; } 2>/dev/null
    ip link del $br 2>/dev/null
  done
  { grep -o "$D[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  for c in /sys/fs/cgroup/*/berth-build-ab; do [[ -d $c ]] && rmdir $c 2>/dev/null; done
  rm -rf $D
}
trap cleanup EXIT
for w in A B; do
  mkdir -p $D/$w; echo '{}' > $D/$w/daemon.json
  ${REPO[$w]}/bin/berthd --debug -H unix://$D/$w/berth.sock --data-root $D/$w/data --exec-root $D/$w/exec --cgroup-parent /berth-build-ab \
    --config-file $D/$w/daemon.json --bridge bab${w,,}0 > $D/$w/log 2>&1 &
  PID[$w]=$!
  for _ in $(seq 1 300); do curl -fs --unix-socket $D/$w/berth.sock http://x/_ping >/dev/null 2>&1 && break; sleep 0.1; done
  DOCKER_HOST=unix://$D/$w/berth.sock ${REPO[$w]}/bin/berth image bootstrap busybox >/dev/null
done
CTX=$D/ctxA; mkdir -p $CTX
head -c 50M /dev/urandom >$CTX/big.bin; echo small >$CTX/small.txt
cat >$CTX/Dockerfile <<'DF'
FROM busybox
ENV A=1
RUN echo step > /step
COPY big.bin /big.bin
LABEL bench=build
WORKDIR /app
COPY small.txt /app/small.txt
RUN cat /app/small.txt > /app/copy
ENV B=2
CMD ["sh"]
DF
cp -a $D/ctxA $D/ctxB
now() { date +%s%N; }
b() { DOCKER_HOST=unix://$D/$1/berth.sock XDG_CACHE_HOME=$D/cache ${REPO[$1]}/bin/berth build -q --network host "${@:2}" >$D/b.log 2>&1 || cat $D/b.log; }
for w in A B; do b $w -t t $D/ctx$w; done
declare -A T
for i in $(seq 1 $N); do
  for w in A B; do
    t=$(now); b $w --no-cache -t t $D/ctx$w; T[$w.cold]+="$(( ($(now)-t)/1000000 )) "
    t=$(now); b $w -t t $D/ctx$w; T[$w.cached]+="$(( ($(now)-t)/1000000 )) "
    echo "s $w $i" > $D/ctx$w/small.txt
    t=$(now); b $w -t t $D/ctx$w; T[$w.touched]+="$(( ($(now)-t)/1000000 )) "
  done
done
for m in cold cached touched; do echo "$m A: ${T[A.$m]} | B: ${T[B.$m]}"; done
for w in A B; do curl -s --unix-socket $D/$w/berth.sock http://x/debug/spans > $OUT/spans-$w.json; done
echo "load: $(cat /proc/loadavg)"
