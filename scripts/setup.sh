#!/usr/bin/env bash
# Everything berth needs on a fresh Debian 12 machine, as root. Idempotent:
# installs only what is missing, then `npm ci` and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

# runtime: runc + containerd's shim, tini (--init); images: busybox-static; networks: CNI plugins,
# iptables, iproute2; remote access: openssl (berth certs), openssh-client (ssh:// hosts);
# tests and benchmarks: the docker.io CLI (20.10) and dockerd, CNCF distribution, skopeo, umoci,
# podman, openssh-server (an sshd on 127.0.0.1 for the ssh tests), curl; gcc + libc6-dev build
# the syscall probe of the security tests; apache2-utils (htpasswd -B) for registry auth tests;
# radosgw + ceph-mon + ceph-osd: a throwaway Ceph on 127.0.0.1 as the S3 server of the
# registry's s3 driver tests (test/support/ceph.ts); debootstrap: the Debian base of the real-image
# test (scripts/debootstrap-base.sh); etcd-server: the cluster store of swarm mode (3.4, /usr/bin/etcd),
# whose members berthd starts itself (src/daemon/cluster/etcd-member.ts), never the Debian service, and
# etcd-client: the cluster tests read the members and keys with etcdctl; libcap2-bin: setcap/getcap,
# file capabilities through the tar code and into layers;
# chromium: the browser of the console tests (driven by playwright-core, which downloads none).
PACKAGES=(runc containerd busybox-static tini iptables iproute2 containernetworking-plugins
  chromium docker.io docker-compose docker-registry apache2-utils skopeo umoci podman socat gcc libc6-dev openssl openssh-client openssh-server curl
  radosgw ceph-mon ceph-osd uuid-runtime debootstrap etcd-server etcd-client libcap2-bin)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Debian's docker.io and etcd-server must not start their own daemons: we never touch a system
  # dockerd, and berthd runs its own etcd members (a packaged etcd would also hold ports 2379/2380).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
