#!/usr/bin/env bash
# berth's main job on a fresh Debian 12 machine, as root: set up, start
# berthd on unix:///run/berth.sock (data in /var/lib/berth), make a busybox
# image with no network if absent, and run a container. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

SOCK=/run/berth.sock
export BERTH_HOST=unix://$SOCK
if ! ./bin/berth version >/dev/null 2>&1; then
  echo "demo: starting berthd (log: /var/log/berthd.log)" >&2
  nohup ./bin/berthd --host "unix://$SOCK" --data-root /var/lib/berth >>/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do
    ./bin/berth version >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
./bin/berth image inspect busybox >/dev/null 2>&1 || ./bin/berth image bootstrap busybox
./bin/berth run --rm busybox echo hello from berth
