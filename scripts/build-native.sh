#!/bin/sh
# Compiles berthd's native helper (native/berth-spawner.c) into dist/native/.
# berthd runs without it (through child_process, slower) when it is missing.
set -e
cd "$(dirname "$0")/.."
mkdir -p dist/native
gcc -O2 -Wall -Wextra -Wno-unused-parameter -o dist/native/berth-spawner.tmp native/berth-spawner.c
mv dist/native/berth-spawner.tmp dist/native/berth-spawner
