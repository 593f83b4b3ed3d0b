#!/usr/bin/env bash
# A/B of two berth trees on container starts: `docker run --rm busybox true`
# and `docker run -d busybox sleep 60` (then removed), alternating between
# the two berthd in every round so both share the machine's load.
#
#   BASE=/tmp/base-tree N=10 ROUNDS=3 bench/engine-ab.sh   # A = BASE (built), B = this tree
set -uo pipefail
N=${N:-10}
ROUNDS=${ROUNDS:-3}
. "$(dirname "$0")/ab-daemons.sh"
trap stop_ab_daemons EXIT
start_ab_daemons
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ms() { local t=$(date +%s%N); "$@" >/dev/null; echo $(( ($(date +%s%N) - t) / 1000000 )); }
declare -A T
for w in A B; do DOCKER_HOST=$(ab_host $w) docker run --rm busybox true; done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
  for w in A B; do
    export DOCKER_HOST; DOCKER_HOST=$(ab_host $w)
    for _ in $(seq 1 "$N"); do T[$w.rm.$r]+="$(ms docker run --rm busybox true) "; done
    for _ in $(seq 1 "$N"); do T[$w.d.$r]+="$(ms docker run -d busybox sleep 60) "; done
    docker rm -f $(docker ps -aq) >/dev/null
  done
  for m in rm d; do
    a=$(tr ' ' '\n' <<<"${T[A.$m.$r]}" | grep . | median); b=$(tr ' ' '\n' <<<"${T[B.$m.$r]}" | grep . | median)
    echo "round $r: $([[ $m == rm ]] && echo 'run --rm true' || echo 'run -d       ')  A $a ms  B $b ms  B/A $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", b/a}')"
  done
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
