/**
 * N berthd "hosts" on one machine, on a LAN of their own, for cluster tests.
 *
 *   const c = await TestCluster.start(3, { busybox: true });
 *   after(() => c.destroy());                      // idempotent; also after a failed start
 *   const [n1, n2] = c.nodes;
 *   await n1.docker(['run', '--rm', 'busybox', 'ping', '-c1', n2.ip]);
 *   await n1.sh('ping', ['-c1', n2.ip]);           // a program on node 1's "host" (its netns)
 *   n2.kill9(); await n2.restart();               // crash and come back on the same data root
 *   c.leftovers();                                 // after destroy: what would have stayed behind
 *
 * Each node is a TestDaemon (daemon.ts) with the `netns` option: its own
 * dir, data root, exec root, cgroup parent, default bridge and socket, and
 * a network namespace that plays the host's. `node.docker()` and
 * `node.berth()` run the clients in the test's namespace against that
 * node's unix socket (a socket path reaches across network namespaces).
 * How berthd enters its namespace, and why not `ip netns exec`, is in the
 * header of daemon.ts.
 *
 * The network, with nothing in the host's root namespace:
 *
 *   LAN netns (<dir>/lan)                    node k netns (<dir>/node<k>.net)
 *   ┌──────────────────────────────┐         ┌──────────────────────────────────────┐
 *   │ bridge bl1a2b3c              │         │ lo up                                │
 *   │  ├─ bl1a2b3cn1 ══ veth ══════╪═════════╪═ eth0  10.1xx.yy.(10+k)/24 (no       │
 *   │  ├─ bl1a2b3cn2 ══ ...        │         │        default route: LAN only)      │
 *   │  └─ bl1a2b3cn3 ══ ...        │         │ bt<hex> 10.2xx.yy.1/24: the node's   │
 *   └──────────────────────────────┘         │   default bridge; containers reach   │
 *                                            │   the LAN through its NAT            │
 *                                            │ berthd, its shims                    │
 *                                            └──────────────────────────────────────┘
 *
 * The LAN subnet is random in 10.150-199.x.0/24 and the bridge names carry
 * random hex, so parallel test files never collide (and node bridges from
 * TestDaemon sit in 10.200-249, never on the LAN). All namespaces are files
 * under the cluster's dir (netns.ts), never names in `ip netns list`.
 *
 * destroy() takes down, in order: each node's containers, shims, daemon,
 * mounts and cgroups (TestDaemon.destroy), any process still inside a node
 * namespace (started by the harness, ended by pid), the node namespaces
 * (their veths go with them), the LAN namespace (its bridge too), the dirs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { onSharedMount } from '../../src/daemon/networks/netns.js';
import { TestDaemon, runProgram, type CommandOptions, type DaemonOptions, type Run } from './daemon.js';
import { createNetns, inNetns, namespaceHolders, namespaceId, privateDir, releaseNamespace, sh, unescapeMount } from './netns.js';

export interface ClusterOptions {
  /** berthd options for every node. */
  daemon?: Omit<DaemonOptions, 'netns' | 'dataRoot'>;
  /** Load busybox into every node (TestDaemon.busybox). */
  busybox?: boolean;
}

export class TestNode {
  constructor(
    /** node1, node2, ... */
    readonly name: string,
    /** The node's address on the LAN. */
    readonly ip: string,
    /** The node's network namespace, as a file (nsenter --net=<netns>). */
    readonly netns: string,
    readonly daemon: TestDaemon,
  ) {}

  get pid(): number | undefined {
    return this.daemon.pid;
  }

  docker(args: string[], o?: CommandOptions): Promise<Run> {
    return this.daemon.docker(args, o);
  }

  berth(args: string[], o?: CommandOptions): Promise<Run> {
    return this.daemon.berth(args, o);
  }

  /** Runs a program on the node's "host": in its network namespace and its daemon's mount namespace (its own /sys). */
  sh(cmd: string, args: string[], o?: CommandOptions): Promise<Run> {
    return runProgram('nsenter', [`--net=${this.netns}`, `--mount=${this.daemon.mountNs}`, '--', cmd, ...args], {}, o);
  }

  busybox(): Promise<void> {
    return this.daemon.busybox();
  }

  /** SIGKILL of this node's berthd only (by pid); its shims and containers live on. */
  kill9(): void {
    this.daemon.kill9();
  }

  /** A clean stop if it runs, then a start on the same data root, in the same namespaces. */
  restart(): Promise<void> {
    return this.daemon.restart();
  }
}

export interface ClusterLeftovers {
  /** Namespaces of the harness still alive: pids inside them, or their files still mounted. */
  namespaces: string[];
  /** Links of the harness in the host's root namespace (there should never be any). */
  links: string[];
  /** Mount points under the cluster's or a node's dir. */
  mounts: string[];
  /** The nodes' cgroup parents still present. */
  cgroups: string[];
  /** The cluster's and nodes' dirs still on disk. */
  dirs: string[];
  /** Shims of the nodes' daemons still running. */
  shims: number[];
}

export class TestCluster {
  readonly dir: string;
  /** The LAN, e.g. 10.163.42.0/24; node k is 10.163.42.(10+k). */
  readonly subnet: string;
  /** The LAN bridge (in the LAN namespace); the LAN end of node k's veth is `${bridge}n${k}`. */
  readonly bridge: string;
  readonly lanNetns: string;
  readonly nodes: TestNode[] = [];
  private readonly prefix: string;
  private privateBind = false;
  /** Every namespace the harness made, by kind and id, for leftovers(). */
  private readonly made: { kind: 'net' | 'mnt'; id: number; what: string }[] = [];
  /** Node namespaces made so far, daemon or not: destroy() needs them even after a failed start. */
  private readonly hosts: { name: string; ip: string; netns: string }[] = [];
  private readonly daemons: TestDaemon[] = [];
  private destroyed: Promise<void> | undefined;

  private constructor() {
    this.dir = mkdtempSync('/tmp/berth-cluster-');
    const r = randomBytes(4);
    this.prefix = `10.${150 + (r[0]! % 50)}.${r[1]}`;
    this.subnet = `${this.prefix}.0/24`;
    this.bridge = `bl${r.subarray(1).toString('hex')}`;
    this.lanNetns = join(this.dir, 'lan');
  }

  /** A LAN and `n` nodes on it, each with a berthd answering; on any failure, everything made so far is taken down. */
  static async start(n: number, opts: ClusterOptions = {}): Promise<TestCluster> {
    const c = new TestCluster();
    try {
      c.makeLan();
      for (let k = 1; k <= n; k++) c.makeNodeNetns(k);
      const started = await Promise.allSettled(c.hosts.map((h) => TestDaemon.start({ ...opts.daemon, netns: h.netns })));
      for (const s of started) if (s.status === 'fulfilled') c.daemons.push(s.value);
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      c.hosts.forEach((h, i) => {
        const d = (started[i] as PromiseFulfilledResult<TestDaemon>).value;
        c.nodes.push(new TestNode(h.name, h.ip, h.netns, d));
        c.made.push({ kind: 'mnt', id: namespaceId(d.mountNs!), what: `${h.name} mount namespace` });
      });
      if (opts.busybox) await Promise.all(c.nodes.map((node) => node.busybox()));
    } catch (err) {
      await c.destroy();
      throw new Error(`cluster start failed; ${c.dir} and what it held are taken down: ${(err as Error).message}`, { cause: err });
    }
    return c;
  }

  /** Node k, counting from 1 as the names do. */
  node(k: number): TestNode {
    const node = this.nodes[k - 1];
    if (!node) throw new Error(`no node${k} in a cluster of ${this.nodes.length}`);
    return node;
  }

  private makeLan(): void {
    // namespace files cannot sit on a shared mount (systemd hosts)
    if (onSharedMount(readFileSync('/proc/self/mountinfo', 'utf8'), this.dir)) {
      privateDir(this.dir);
      this.privateBind = true;
    }
    createNetns(this.lanNetns, `ip link add ${this.bridge} type bridge\nip link set ${this.bridge} up`);
    this.made.push({ kind: 'net', id: namespaceId(this.lanNetns), what: 'LAN namespace' });
  }

  /** Node k's namespace, on the LAN by a veth: eth0 inside, `${bridge}n${k}` on the bridge. */
  private makeNodeNetns(k: number): void {
    const netns = join(this.dir, `node${k}.net`);
    const ip = `${this.prefix}.${10 + k}`;
    createNetns(netns);
    this.made.push({ kind: 'net', id: namespaceId(netns), what: `node${k} network namespace` });
    const port = `${this.bridge}n${k}`;
    inNetns(this.lanNetns, 'sh', ['-ec', `ip link add ${port} type veth peer name eth0 netns ${netns}\nip link set ${port} master ${this.bridge} up`]);
    inNetns(netns, 'sh', ['-ec', `ip addr add ${ip}/24 dev eth0\nip link set eth0 up`]);
    this.hosts.push({ name: `node${k}`, ip, netns });
  }

  /** Takes everything down (see the header). Safe to call again, and after a failed start. */
  destroy(): Promise<void> {
    this.destroyed ??= this.teardown();
    return this.destroyed;
  }

  private async teardown(): Promise<void> {
    await Promise.allSettled(this.daemons.map((d) => d.destroy()));
    await this.endProcesses();
    for (const h of this.hosts) releaseNamespace(h.netns);
    releaseNamespace(this.lanNetns);
    if (this.privateBind) sh('umount', ['-l', this.dir], false);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Processes still inside a namespace of the harness were started by it
   * (a shim finishing its shutdown after `rm -f`, a daemon's helper): give
   * them a moment, then end them by pid and wait until they are gone.
   */
  private async endProcesses(): Promise<void> {
    const inside = () => [...new Set(this.made.flatMap((m) => namespaceHolders(m.kind, m.id).pids))];
    const settle = async (ms: number) => {
      const deadline = Date.now() + ms;
      while (inside().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    };
    await settle(2000);
    for (const pid of inside()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await settle(2000);
  }

  /** What the harness would have left behind: all empty after destroy(). */
  leftovers(): ClusterLeftovers {
    const namespaces = this.made.flatMap((m) => {
      const h = namespaceHolders(m.kind, m.id);
      return h.pids.length || h.mounts.length ? [`${m.what} (${m.kind}:[${m.id}]) held by pids [${h.pids.join(' ')}] mounts [${h.mounts.join(' ')}]`] : [];
    });
    const ours = [this.bridge, ...this.hosts.map((_h, i) => `${this.bridge}n${i + 1}`), ...this.daemons.map((d) => d.bridge)];
    const links = sh('ip', ['-o', 'link', 'show']).stdout.split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter((n) => ours.includes(n));
    const dirs = [this.dir, ...this.daemons.map((d) => d.dir)];
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => unescapeMount(l.split(' ')[4] ?? ''))
      .filter((m) => dirs.some((d) => m === d || m.startsWith(d + '/')));
    const cgroups: string[] = [];
    for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
      for (const d of this.daemons) if (existsSync(join('/sys/fs/cgroup', ctrl, d.cgroupParent))) cgroups.push(join('/sys/fs/cgroup', ctrl, d.cgroupParent));
    }
    const shims = this.daemons.flatMap((d) => d.leftovers().shims);
    return { namespaces, links, mounts, cgroups, dirs: dirs.filter((d) => existsSync(d)), shims };
  }
}
