# The build benchmarks' context: a 10-step Dockerfile with a BIG_MB MB COPY
# (random bytes) and a small file a later step reads. Sourced by
# build-side-by-side.sh and build-ab.sh.
#
#   make_build_context DIR [BIG_MB]
make_build_context() {
  local dir=$1
  mkdir -p "$dir"
  head -c "${2:-50}M" /dev/urandom >"$dir/big.bin"
  echo small >"$dir/small.txt"
  cat >"$dir/Dockerfile" <<'DOCKERFILE'
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
DOCKERFILE
}
