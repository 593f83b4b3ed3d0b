/**
 * Network namespaces of containers, as files under `<exec-root>/netns/`
 * (not the host's /var/run/netns): `unshare --net=<file>` makes one and
 * keeps it alive by bind-mounting it on the file. When the directory sits
 * on a shared mount (systemd hosts), it becomes a private bind mount of
 * itself, as `ip netns` does for /run/netns, so the namespace mounts do
 * not propagate anywhere.
 */
import { mkdir, open, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../lib/exec.js';
import type { IdMap } from '../../lib/id-map.js';
import { mountsUnder, unmount } from '../../lib/mount.js';
import { span } from '../../lib/spans.js';
import { activeSpawner, errnoError } from '../../lib/spawner/client.js';
import { Op } from '../../lib/spawner/protocol.js';
import { createUsernsNetns, userNamespaceFor } from '../containers/security/userns-netns.js';

/**
 * Run inside a new namespace: loopback up, and IPv6 off on every interface
 * made there from now on (eth0, eth1 of `network connect`), as dockerd
 * disables it on a container's interfaces on IPv4-only networks (berth's
 * networks are all IPv4-only): no link-local address, no multicast groups,
 * no router advertisements taken from a neighbour. lo keeps ::1, as with
 * dockerd. A host without IPv6 has no /proc/sys/net/ipv6: nothing to do.
 */
export const NETNS_SETUP = 'ip link set lo up && if [ -d /proc/sys/net/ipv6 ]; then echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; fi';

export interface NetnsDirOptions {
  /** userns-remap: each network namespace belongs to a user namespace with these maps (userns-netns.ts). */
  idMap?: IdMap;
}

export class NetnsDir {
  constructor(readonly dir: string, private readonly opts: NetnsDirOptions = {}) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if ((await mountsUnder(this.dir)).includes(this.dir)) return;
    if (!onSharedMount(await readFile('/proc/self/mountinfo', 'utf8'), this.dir)) return;
    await run('mount', ['--bind', this.dir, this.dir]);
    await run('mount', ['--make-private', this.dir]);
  }

  path(id: string): string {
    return join(this.dir, id.slice(0, 12));
  }

  /** A new namespace with only its loopback device, up, and IPv6 off for what comes (NETNS_SETUP); returns its path. */
  async create(id: string): Promise<string> {
    const p = this.path(id);
    await (await open(p, 'w')).close();
    try {
      if (this.opts.idMap) {
        await (await open(userNamespaceFor(p), 'w')).close();
        await createUsernsNetns(p, userNamespaceFor(p), this.opts.idMap);
        await run('nsenter', [`--net=${p}`, 'sh', '-c', NETNS_SETUP]);
      } else if (activeSpawner()) {
        await createDirect(p);
      } else {
        // one spawn: unshare makes the namespace and sets it up from inside (no CNI loopback plugin run)
        await run('unshare', [`--net=${p}`, 'sh', '-c', NETNS_SETUP]);
      }
    } catch (err) {
      await this.remove(id);
      throw err;
    }
    return p;
  }

  async remove(id: string): Promise<void> {
    const p = this.path(id);
    // umount(8) only on what is mounted: each spawn forks the whole daemon, and the
    // user namespace file is mounted only under userns-remap
    const mounted = new Set(await mountsUnder(this.dir).catch(() => [p, userNamespaceFor(p)]));
    for (const f of [p, userNamespaceFor(p)]) {
      if (mounted.has(f)) await unmount(f).catch(() => unmount(f, true)).catch(() => {});
      await rm(f, { force: true });
    }
  }

  /** Container ids (12 hex) that have a namespace file here. */
  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => /^[0-9a-f]{12}$/.test(n));
    } catch {
      return [];
    }
  }

  /** Unmounts the directory itself once it is empty (clean shutdown). */
  async close(): Promise<void> {
    if ((await this.list()).length) return;
    await unmount(this.dir).catch(() => {});
  }
}

/** The helper makes the namespace and does NETNS_SETUP itself with syscalls: no program runs. */
async function createDirect(p: string): Promise<void> {
  const spawner = activeSpawner()!;
  const r = await span('syscall netns', () => spawner.call({ op: Op.Netns, target: p }, 'netns create'));
  if (r.errno) throw errnoError(r.errno, `netns ${r.stderr.toString() || 'create'}`, p);
}

/** Is `dir` on a mount with shared propagation? (mountinfo: the longest mount point above it) */
export function onSharedMount(mountinfo: string, dir: string): boolean {
  let best = '';
  let shared = false;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const mp = f[4];
    if (!mp) continue;
    const inside = mp === '/' || dir === mp || dir.startsWith(mp + '/');
    if (inside && mp.length >= best.length) {
      best = mp;
      shared = f.slice(6, f.indexOf('-')).some((o) => o.startsWith('shared:'));
    }
  }
  return shared;
}
