# shellcheck shell=bash
# make_big: $W/big.tar, a Docker-format archive of bench/big:1 with $LAYERS
# layers of $LAYER_MB MB of random bytes each. Source it; W, LAYERS and
# LAYER_MB must be set.
make_big() {
  local dir="$W/big" diffids=() layers=()
  mkdir -p "$dir"
  for i in $(seq 1 "$LAYERS"); do
    mkdir -p "$W/l$i"
    head -c "${LAYER_MB}M" /dev/urandom >"$W/l$i/data$i.bin"
    tar -C "$W/l$i" -cf "$dir/layer$i.tar" .
    rm -rf "$W/l$i"
    diffids+=("\"sha256:$(sha256sum "$dir/layer$i.tar" | cut -d' ' -f1)\"")
    layers+=("\"layer$i.tar\"")
  done
  local cfg; cfg=$(printf '{"architecture":"amd64","os":"linux","created":"2026-01-01T00:00:00Z","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$(IFS=,; echo "${diffids[*]}")")
  local hex; hex=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
  printf '%s' "$cfg" >"$dir/$hex.json"
  printf '[{"Config":"%s.json","RepoTags":["bench/big:1"],"Layers":[%s]}]' "$hex" "$(IFS=,; echo "${layers[*]}")" >"$dir/manifest.json"
  tar -C "$dir" -cf "$W/big.tar" .
  rm -rf "$dir"
}

