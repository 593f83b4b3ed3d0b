/**
 * N berthd "hosts" on one machine, on a LAN of their own, for cluster tests.
 *
 *   const c = await TestCluster.start(3, { busybox: true });
 *   after(() => c?.destroy());                     // idempotent; a failed start has cleaned up already
 *   const [n1, n2] = c.nodes;
 *   await n1.docker(['run', '--rm', 'busybox', 'ping', '-c1', n2.ip]);
 *   await n1.sh('busybox', ['ping', '-c1', n2.ip]); // a program on node 1's "host" (its netns and /sys)
 *   n2.kill9(); await n2.restart();               // crash and come back on the same data root
 *   n3.unplug(); ...; n3.plug();                   // a network partition: its LAN port down, then up
 *   const [n4] = await c.addNodes(1);              // node4 joins later (options of its own: addNodes(1, {...}))
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
 * A cluster whose test process was killed outright is swept by the next
 * start() (cluster-sweep.ts).
 *
 * destroy() takes down, in order: each node's containers, shims, daemon,
 * mounts and cgroups (TestDaemon.destroy), any process still inside a node
 * namespace (started by the harness, ended by pid), the node namespaces
 * (their veths go with them), the LAN namespace (its bridge too), the dirs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isEtcdFor } from '../../src/daemon/cluster/etcd-member.js';
import { onSharedMount } from '../../src/daemon/networks/netns.js';
import { sweepOrphanClusters, writeOwner } from './cluster-sweep.js';
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
    /** The LAN end of the node's veth: the cable, for unplug() and plug(). */
    private readonly cable: { lanNetns: string; port: string },
  ) {}

  get pid(): number | undefined {
    return this.daemon.pid;
  }

  /** The etcd member this node's berthd runs (detached from it), if one runs for its data root. */
  etcdPid(): number | undefined {
    const dir = join(this.daemon.dataRoot, 'swarm', 'etcd');
    try {
      const pid = Number(readFileSync(join(dir, 'etcd.pid'), 'utf8').trim());
      return isEtcdFor(pid, join(dir, 'data')) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  docker(args: string[], o?: CommandOptions): Promise<Run> {
    return this.daemon.docker(args, o);
  }

  berth(args: string[], o?: CommandOptions): Promise<Run> {
    return this.daemon.berth(args, o);
  }

  /** `docker` that must succeed: its stdout. A failure asserts with the node, the command, its stderr and the daemon's last log. */
  async dockerOk(args: string[], o?: CommandOptions): Promise<string> {
    const r = await this.docker(args, o);
    assert.equal(r.code, 0, `${this.name}: docker ${args.join(' ')}: ${r.stderr}\n${this.daemon.logs.slice(-3000)}`);
    return r.stdout;
  }

  /** Names of this node's running containers of a swarm service. */
  async serviceContainers(service: string): Promise<string[]> {
    const out = await this.dockerOk(['ps', '--filter', `label=com.docker.swarm.service.name=${service}`, '--format', '{{.Names}}']);
    return out.trim().split('\n').filter(Boolean);
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

  /** Takes the node off the LAN (its bridge port goes down; eth0 loses its carrier): a network partition. */
  unplug(): void {
    inNetns(this.cable.lanNetns, 'ip', ['link', 'set', this.cable.port, 'down']);
  }

  /** Puts it back on the LAN. */
  plug(): void {
    inNetns(this.cable.lanNetns, 'ip', ['link', 'set', this.cable.port, 'up']);
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
  private readonly hosts: { name: string; ip: string; netns: string; port: string }[] = [];
  private readonly daemons: TestDaemon[] = [];
  private destroyed: Promise<void> | undefined;

  private constructor(private readonly opts: ClusterOptions) {
    this.dir = mkdtempSync('/tmp/berth-cluster-');
    const r = randomBytes(4);
    this.prefix = `10.${150 + (r[0]! % 50)}.${r[1]}`;
    this.subnet = `${this.prefix}.0/24`;
    this.bridge = `bl${r.subarray(1).toString('hex')}`;
    this.lanNetns = join(this.dir, 'lan');
    writeOwner(this.dir, []);
  }

  /** A LAN and `n` nodes on it, each with a berthd answering; on any failure, everything made so far is taken down. */
  static async start(n: number, opts: ClusterOptions = {}): Promise<TestCluster> {
    await sweepOrphanClusters();
    const c = new TestCluster(opts);
    try {
      c.makeLan();
      await c.addNodes(n);
    } catch (err) {
      await c.destroy();
      throw new Error(`cluster start failed; ${c.dir} and what it held are taken down: ${(err as Error).message}`, { cause: err });
    }
    return c;
  }

  /**
   * `n` more nodes on the LAN (node<k+1>, ...), started in parallel; `daemon`
   * replaces the cluster's daemon options for them. On a failure the nodes
   * that did start stay in `nodes`, and destroy() takes everything down.
   */
  async addNodes(n = 1, daemon = this.opts.daemon): Promise<TestNode[]> {
    const hosts = Array.from({ length: n }, () => this.makeNodeNetns(this.hosts.length + 1));
    const started = await Promise.allSettled(hosts.map((h) => TestDaemon.start({ ...daemon, netns: h.netns })));
    const added: TestNode[] = [];
    started.forEach((s, i) => {
      if (s.status !== 'fulfilled') return;
      const h = hosts[i]!;
      this.daemons.push(s.value);
      this.made.push({ kind: 'mnt', id: namespaceId(s.value.mountNs!), what: `${h.name} mount namespace` });
      added.push(new TestNode(h.name, h.ip, h.netns, s.value, { lanNetns: this.lanNetns, port: h.port }));
    });
    this.nodes.push(...added);
    writeOwner(this.dir, this.daemons.map((d) => ({ dir: d.dir, cgroupParent: d.cgroupParent })));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    if (this.opts.busybox) await Promise.all(added.map((node) => node.busybox()));
    return added;
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
  private makeNodeNetns(k: number): { name: string; ip: string; netns: string; port: string } {
    if (k > 200) throw new Error('a cluster LAN holds 200 nodes');
    const host = { name: `node${k}`, ip: `${this.prefix}.${10 + k}`, netns: join(this.dir, `node${k}.net`), port: `${this.bridge}n${k}` };
    createNetns(host.netns);
    this.hosts.push(host); // from here on, destroy() releases it
    this.made.push({ kind: 'net', id: namespaceId(host.netns), what: `${host.name} network namespace` });
    inNetns(this.lanNetns, 'sh', ['-ec', `ip link add ${host.port} type veth peer name eth0 netns ${host.netns}\nip link set ${host.port} master ${this.bridge} up`]);
    inNetns(host.netns, 'sh', ['-ec', `ip addr add ${host.ip}/24 dev eth0\nip link set eth0 up`]);
    return host;
  }

  /** Takes everything down (see the header). Safe to call again, and after a failed start. */
  destroy(): Promise<void> {
    this.destroyed ??= this.teardown();
    return this.destroyed;
  }

  private async teardown(): Promise<void> {
    // a manager's etcd is detached from its berthd on purpose: it outlives the daemon's stop
    for (const n of this.nodes) {
      const pid = n.etcdPid();
      if (pid) process.kill(pid, 'SIGKILL');
    }
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
    // only the network namespaces, still held by our files: a daemon's mount namespace was released by
    // its destroy(), and the kernel reuses namespace ids at once, so its id may already be someone else's
    const held = this.made.filter((m) => m.kind === 'net');
    const inside = () => [...new Set(held.flatMap((m) => namespaceHolders(m.kind, m.id).pids))];
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
    const dirs = [this.dir, ...this.daemons.map((d) => d.dir)];
    const inOurs = (p: string) => dirs.some((d) => p === d || p.startsWith(d + '/'));
    // a released namespace's id is reused at once, often by another test's container or daemon running
    // beside this suite: a holder counts only if it is ours, a mount under our dirs or a process whose
    // root is under our dirs (a container of ours), or whose root is the host's and whose command line,
    // working dir or mounts name our dirs (a daemon, shim or helper of ours: another test's daemon in
    // its own mount namespace has the host's root too)
    const namesOurs = (pid: number) => {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (dirs.some((d) => cmd.includes(d)) || inOurs(readlinkSync(`/proc/${pid}/cwd`))) return true;
      return readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').some((l) => inOurs(unescapeMount(l.split(' ')[4] ?? '')));
    };
    const ourPid = (pid: number) => {
      try {
        const root = readlinkSync(`/proc/${pid}/root`);
        return inOurs(root) || (root === '/' && namesOurs(pid));
      } catch {
        return false; // gone
      }
    };
    const namespaces = this.made.flatMap((m) => {
      const h = namespaceHolders(m.kind, m.id);
      const pids = h.pids.filter(ourPid);
      const mounts = h.mounts.filter(inOurs);
      return pids.length || mounts.length ? [`${m.what} (${m.kind}:[${m.id}]) held by pids [${pids.join(' ')}] mounts [${mounts.join(' ')}]`] : [];
    });
    const ours = [this.bridge, ...this.hosts.map((h) => h.port), ...this.daemons.map((d) => d.bridge)];
    const links = sh('ip', ['-o', 'link', 'show']).stdout.split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter((n) => ours.includes(n));
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => unescapeMount(l.split(' ')[4] ?? '')).filter(inOurs);
    const cgroups: string[] = [];
    for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
      for (const d of this.daemons) if (existsSync(join('/sys/fs/cgroup', ctrl, d.cgroupParent))) cgroups.push(join('/sys/fs/cgroup', ctrl, d.cgroupParent));
    }
    const shims = this.daemons.flatMap((d) => d.leftovers().shims);
    return { namespaces, links, mounts, cgroups, dirs: dirs.filter((d) => existsSync(d)), shims };
  }
}
