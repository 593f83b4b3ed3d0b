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
. "$(dirname "$0")/ab-daemons.sh"
trap stop_ab_daemons EXIT
start_ab_daemons --debug
D=$AB_DIR
. "$(dirname "$0")/build-context.sh"
make_build_context $D/ctxA
cp -a $D/ctxA $D/ctxB
now() { date +%s%N; }
b() { DOCKER_HOST=$(ab_host $1) XDG_CACHE_HOME=$D/cache ${AB_REPO[$1]}/bin/berth build -q --network host "${@:2}" >$D/b.log 2>&1 || cat $D/b.log; }
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
