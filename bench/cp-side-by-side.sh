#!/usr/bin/env bash
# Side by side: `docker cp` both ways and the cost of the default seccomp
# profile, against berthd and a real dockerd started here (bench/daemons.sh),
# in alternating rounds, with the real docker CLI. Prints medians and the
# berth/docker ratio.
#
#   bench/cp-side-by-side.sh            # N=7 ROUNDS=2 FILES=1000 BIG_MB=50
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=daemons.sh
. "$HERE/daemons.sh"
N=${N:-7}
ROUNDS=${ROUNDS:-2}
FILES=${FILES:-1000}
BIG_MB=${BIG_MB:-50}
WORK=$(mktemp -d /tmp/berth-cpbench.XXXXXX)
trap 'rm -rf "$WORK"; stop_daemons' EXIT
export DOCKER_CLI_HINTS=false

# a busybox rootfs for both daemons, and the tree to copy: many small files and one big one
mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/tmp" "$WORK/tree/small" "$WORK/out"
cp /bin/busybox "$WORK/rootfs/bin/busybox"
for a in sh sleep true cat ls; do ln -s busybox "$WORK/rootfs/bin/$a"; done
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
for i in $(seq 1 "$FILES"); do printf 'file %s\n' "$i" >"$WORK/tree/small/f$i"; done
head -c $((BIG_MB << 20)) /dev/urandom >"$WORK/tree/big"

start_berthd
start_dockerd
for h in "$BERTH_HOST_URL" "$DOCKER_HOST_URL"; do
  DOCKER_HOST=$h docker import "$WORK/rootfs.tar" cpbench:latest >/dev/null
  DOCKER_HOST=$h docker run -d --name cpbench cpbench:latest sleep 100000 >/dev/null
done

ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

declare -A samples
measure() { # DAEMON HOST
  local who=$1 host=$2 i
  export DOCKER_HOST=$host
  for i in $(seq 1 "$N"); do
    docker exec cpbench sh -c 'rm -rf /tmp/tree' >/dev/null
    samples[$who,cp_in_tree]+="$(ms docker cp "$WORK/tree" cpbench:/tmp/tree) "
    rm -rf "$WORK/out/tree"
    samples[$who,cp_out_tree]+="$(ms docker cp cpbench:/tmp/tree "$WORK/out/tree") "
    samples[$who,cp_small_file]+="$(ms docker cp "$WORK/tree/small/f1" cpbench:/tmp/one) "
    samples[$who,run_default]+="$(ms docker run --rm cpbench:latest true) "
    samples[$who,run_unconfined]+="$(ms docker run --rm --security-opt seccomp=unconfined cpbench:latest true) "
  done
}
for r in $(seq 1 "$ROUNDS"); do
  measure docker "$DOCKER_HOST_URL"
  measure berth "$BERTH_HOST_URL"
done

printf '%-44s %10s %10s %8s\n' metric "dockerd" "berthd" "ratio"
for m in cp_in_tree cp_out_tree cp_small_file run_default run_unconfined; do
  a=$(tr ' ' '\n' <<<"${samples[docker,$m]}" | grep . | median)
  b=$(tr ' ' '\n' <<<"${samples[berth,$m]}" | grep . | median)
  printf "%-44s %8s ms %8s ms %8.2f\n" "$m" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {print b / a}')"
done
