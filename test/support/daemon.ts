/**
 * Starts a real berthd for a test on its own socket, data root, exec root
 * and cgroup parent, and takes everything down afterwards: containers,
 * shims, mounts, cgroups, files. `leftovers()` tells a test what would
 * have stayed behind.
 *
 * With `netns`, berthd runs as a "host" of its own inside that network
 * namespace (cluster.ts builds a LAN of them): it is started through
 * `nsenter --net=<netns> --mount=<dir>/mnt.ns`, never `ip netns exec`.
 * That mount namespace is made once per daemon (netns.ts
 * hostMountNamespace) and re-entered by every launch, so a restarted
 * berthd sees the mounts the killed one left:
 *
 *   - /sys in it is a sysfs of the daemon's netns: berthd reads
 *     /sys/class/net/<bridge> (links.ts), and the host's sysfs would list
 *     the host's links there, so a restart would try to create the
 *     default bridge again. The cgroup tree is bound back on /sys/fs/cgroup.
 *   - the data and exec roots are shared mount points made before the
 *     namespace, so what berthd and its shims mount there (rootfs
 *     overlays, shm) shows in the test's namespace too, and the test's
 *     umount reaches back. berthd then keeps its `<exec-root>/netns`
 *     private, as on systemd hosts; its namespace files are seen through
 *     the daemon's mount namespace (`leftovers()` looks in both).
 *
 * `ip netns exec` would unshare a fresh mount namespace per call, with a
 * /sys that lacks /sys/fs/cgroup: mounts made there are lost to the next
 * call and to the test's cleanup, and runc finds no cgroups.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onSharedMount } from '../../src/daemon/networks/netns.js';
import { hostMountNamespace, isMountPoint, privateDir, releaseNamespace, sh, shareDir, unescapeMount } from './netns.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BERTHD = join(REPO, 'bin/berthd');
export const BERTH = join(REPO, 'bin/berth');
/** The docker CLI of the machine image (28.x), and Debian's (20.10, negotiates API 1.41). */
export const DOCKER = existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : '/usr/bin/docker';
export const DOCKER_2010 = '/usr/bin/docker';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs a program to its end with `env` over the test's environment; never throws on a non-zero exit. */
export function runProgram(cmd: string, args: string[], env: NodeJS.ProcessEnv, o: CommandOptions = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env, ...(o.env ?? {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
  });
}

export interface DaemonOptions {
  extraArgs?: string[];
  /** Keep the data root between restart() calls (default: a fresh one per daemon). */
  dataRoot?: string;
  /** Run berthd inside this network namespace (a file from netns.ts createNetns), with a mount namespace of its own: see the header. */
  netns?: string;
}

export class TestDaemon {
  readonly dir: string;
  readonly socket: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly cgroupParent: string;
  /** The default bridge of this daemon and its subnet: unique, so parallel daemons never collide. */
  readonly bridge: string;
  readonly bip: string;
  /** With `netns`: the daemon's mount namespace, kept as a file (see the header). */
  readonly mountNs: string | undefined;
  private proc: ChildProcess | undefined;
  /** Mount points the harness itself made for a netns daemon (not the daemon's). */
  private readonly hostMounts: string[] = [];
  private hostReady = false;
  private destroyed: Promise<void> | undefined;
  logs = '';

  private constructor(private readonly opts: DaemonOptions) {
    this.dir = mkdtempSync('/tmp/berth-e2e-');
    this.socket = join(this.dir, 'berth.sock');
    this.dataRoot = opts.dataRoot ?? join(this.dir, 'data');
    this.execRoot = join(this.dir, 'exec');
    this.mountNs = opts.netns ? join(this.dir, 'mnt.ns') : undefined;
    this.cgroupParent = `/berth-test-${randomBytes(4).toString('hex')}`;
    const r = randomBytes(3);
    this.bridge = `bt${r.toString('hex')}`;
    this.bip = `10.${200 + (r[0]! % 50)}.${r[1]}.1/24`;
    // our own (empty) daemon.json, so the host's /etc/berth/daemon.json never leaks in
    writeFileSync(join(this.dir, 'daemon.json'), '{}');
  }

  static async start(opts: DaemonOptions = {}): Promise<TestDaemon> {
    const d = new TestDaemon(opts);
    try {
      await d.launch();
    } catch (err) {
      await d.destroy();
      throw err;
    }
    return d;
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  get env(): NodeJS.ProcessEnv {
    return { DOCKER_HOST: this.host, BERTH_HOST: this.host, DOCKER_CLI_HINTS: 'false' };
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts berthd; `o.liveRestore: false` drops --live-restore (a cleanup stop must take the networks down). */
  async launch(o: { liveRestore?: false } = {}): Promise<void> {
    const extra = (this.opts.extraArgs ?? []).filter((a) => o.liveRestore !== false || a !== '--live-restore');
    const args = ['-H', this.host, '--data-root', this.dataRoot, '--exec-root', this.execRoot, '--cgroup-parent', this.cgroupParent,
      '--config-file', join(this.dir, 'daemon.json'), '-l', 'debug', '--bridge', this.bridge, '--bip', this.bip, ...extra];
    if (this.opts.netns && !this.hostReady) this.prepareHost(this.opts.netns);
    // nsenter execs berthd in place: proc.pid is berthd's pid
    const proc = this.opts.netns
      ? spawn('nsenter', [`--net=${this.opts.netns}`, `--mount=${this.mountNs}`, '--', BERTHD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(BERTHD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout!.on('data', (d: Buffer) => (this.logs += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.logs += d.toString()));
    // a hang guard, not a speed check: a swarm node's start (etcd client, store, overlay sync) took over 15 s on a loaded machine
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`berthd exited at start:\n${this.logs}`);
      if (await this.ping()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`berthd did not answer within 45 s:\n${this.logs}`);
  }

  /** The shared data and exec roots, then the mount namespace that copies them (see the header). */
  private prepareHost(netns: string): void {
    // namespace files cannot sit on a shared mount (systemd hosts): make the daemon's dir private first
    if (onSharedMount(readFileSync('/proc/self/mountinfo', 'utf8'), this.dir)) {
      privateDir(this.dir);
      this.hostMounts.push(this.dir);
    }
    for (const root of [this.dataRoot, this.execRoot]) {
      mkdirSync(root, { recursive: true });
      shareDir(root);
      this.hostMounts.push(root);
    }
    hostMountNamespace(this.mountNs!, netns, this.dir);
    this.hostMounts.push(this.mountNs!);
    this.hostReady = true;
  }

  /** Runs a command where the daemon lives: its network namespace, if it has one. */
  private onHost(cmd: string, args: string[]): string {
    return (this.opts.netns ? sh('nsenter', [`--net=${this.opts.netns}`, '--', cmd, ...args], false) : sh(cmd, args, false)).stdout;
  }

  /** Mount points under `prefix`, as the test sees them and, for a netns daemon, as the daemon does. */
  private mountsUnder(prefix: string): string[] {
    const views = [readFileSync('/proc/self/mounts', 'utf8')];
    if (this.mountNs && existsSync(this.mountNs) && isMountPoint(this.mountNs)) views.push(sh('nsenter', [`--mount=${this.mountNs}`, '--', 'cat', '/proc/self/mounts'], false).stdout);
    const all = views.flatMap((v) => v.split('\n').map((l) => unescapeMount(l.split(' ')[1] ?? '')));
    return [...new Set(all.filter((m) => m === prefix || m.startsWith(prefix + '/')))];
  }

  private ping(): Promise<boolean> {
    return new Promise((r) => {
      const req = request({ socketPath: this.socket, path: '/_ping', method: 'GET' }, (res) => {
        res.resume();
        r(res.statusCode === 200);
      });
      req.on('error', () => r(false));
      req.end();
    });
  }

  docker(args: string[], o?: CommandOptions): Promise<Run> {
    return runProgram(DOCKER, args, this.env, o);
  }

  /** `docker ARGS`, which must succeed (the assertion names the command and its stderr): its stdout. */
  async dockerOk(args: string[], o?: CommandOptions): Promise<string> {
    const r = await this.docker(args, o);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  docker2010(args: string[], o?: CommandOptions): Promise<Run> {
    return runProgram(DOCKER_2010, args, this.env, o);
  }

  berth(args: string[], o?: CommandOptions): Promise<Run> {
    return runProgram(BERTH, args, this.env, o);
  }

  /** Raw HTTP to the API: status, headers and body text. */
  http(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((r, reject) => {
      const req = request({ socketPath: this.socket, path, method, headers: body !== undefined ? { 'Content-Type': 'application/json', ...headers } : headers }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => r({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async busybox(name = 'busybox:latest'): Promise<void> {
    const r = await this.berth(['image', 'bootstrap', name]);
    if (r.code !== 0) throw new Error(`bootstrap failed: ${r.stderr}`);
  }

  /** SIGKILL, as a crash would. */
  kill9(): void {
    this.proc?.kill('SIGKILL');
    this.proc = undefined;
  }

  /** Clean shutdown (SIGTERM) and wait for the process to end. */
  async stopDaemon(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    if (p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGTERM');
    });
  }

  async restart(): Promise<void> {
    await this.stopDaemon();
    await this.launch();
  }

  /** What is left on the host that belongs to this daemon. */
  leftovers(): { mounts: string[]; shims: number[]; cgroups: string[] } {
    // a netns daemon's own <exec-root>/netns mount point stays until a clean stop (networks/netns.ts NetnsDir)
    const infra = this.opts.netns ? [...this.hostMounts, join(this.execRoot, 'netns')] : [];
    const mounts = this.mountsUnder(this.dir).filter((m) => !infra.includes(m));
    const shims: number[] = [];
    for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes('containerd-shim-runc-v2') && cmd.includes(`berth:${this.execRoot}`)) shims.push(Number(pid));
      } catch {
        // gone
      }
    }
    const cgroups: string[] = [];
    for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
      const dir = join('/sys/fs/cgroup', ctrl, this.cgroupParent);
      if (existsSync(dir)) cgroups.push(...readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name)));
    }
    return { mounts, shims, cgroups };
  }

  /** Bridge devices of this daemon's networks (from its records). */
  private bridges(): string[] {
    const dir = join(this.dataRoot, 'networks');
    const names = [this.bridge];
    for (const f of existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')) : []) {
      try {
        const b = (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { bridge?: string }).bridge;
        if (b) names.push(b);
      } catch {
        // being written
      }
    }
    return [...new Set(names)];
  }

  /** Network state of this daemon left on the host: bridges, iptables rules, namespaces. */
  netLeftovers(): { links: string[]; rules: string[]; netns: string[] } {
    const bridges = this.bridges();
    const links = this.onHost('ip', ['-o', 'link', 'show']).split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter((n) => bridges.includes(n));
    const save = this.onHost('iptables-save', []).split('\n');
    const rules = save.filter((l) => !l.startsWith('#') && this.ownsRule(l, bridges));
    const netnsDir = join(this.execRoot, 'netns');
    const netns = existsSync(netnsDir) ? readdirSync(netnsDir) : [];
    return { links, rules, netns };
  }

  /** An iptables-save line of this daemon's: its chains, or a rule on one of its bridges. */
  private ownsRule(line: string, bridges: string[]): boolean {
    return line.includes(`-${this.bridge}`) || bridges.some((b) => new RegExp(`-[io] ${b}\\b`).test(line));
  }

  /** Last resort when even a clean start and stop left them: this daemon's rules, chains and bridges, by hand. */
  private removeNetworks(): void {
    const bridges = this.bridges();
    // a user network's chains are named for its bridge too
    const ours = (l: string) => this.ownsRule(l, bridges) || bridges.some((b) => l.includes(`-${b}`));
    const chains: [string, string][] = [];
    let table = 'filter';
    for (const l of this.onHost('iptables-save', []).split('\n')) {
      if (l.startsWith('*')) table = l.slice(1);
      else if (l.startsWith(':') && ours(l)) chains.push([table, l.slice(1).split(' ')[0]!]);
      else if (l.startsWith('-A ') && ours(l)) this.onHost('iptables', ['-t', table, '-D', ...l.slice(3).split(' ')]);
    }
    for (const [t, c] of chains) {
      this.onHost('iptables', ['-t', t, '-F', c]);
      this.onHost('iptables', ['-t', t, '-X', c]);
    }
    for (const b of bridges) this.onHost('ip', ['link', 'del', b]);
  }

  /** Removes every container, stops the daemon, and clears what is left (processes we started only). Safe to call again. */
  destroy(): Promise<void> {
    this.destroyed ??= this.teardown();
    return this.destroyed;
  }

  private async teardown(): Promise<void> {
    // a daemon a test killed comes back once, so that it removes its containers itself
    if (!this.proc || this.proc.exitCode !== null) await this.launch().catch(() => {});
    if (this.proc && this.proc.exitCode === null) {
      const ids = (await this.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.docker(['rm', '-f', ...ids]);
    }
    await this.stopDaemon();
    const net = this.netLeftovers();
    if (net.links.length || net.rules.length || net.netns.length) {
      // killed, or stopped with --live-restore (which keeps them): a clean start and stop without it takes the networks down
      await this.launch({ liveRestore: false }).then(() => this.stopDaemon(), () => this.stopDaemon());
      const still = this.netLeftovers();
      if (still.links.length || still.rules.length) {
        process.stderr.write(`# harness: ${this.dir}: the daemon left ${[...still.links, `${still.rules.length} iptables lines`].join(', ')}; removed by hand\n`);
        this.removeNetworks();
      }
    }
    const left = this.leftovers();
    // container processes whose shim is gone live on in our cgroup parent: ours to end
    for (const ctrl of ['pids', 'memory', 'unified']) {
      const dir = join('/sys/fs/cgroup', ctrl, this.cgroupParent);
      if (!existsSync(dir)) continue;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const procs = readFileSync(join(dir, e.name, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
        for (const pid of procs) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
      }
    }
    for (const pid of left.shims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const m of left.mounts.sort((a, b) => b.length - a.length)) this.unmount(m);
    for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
      const dir = join('/sys/fs/cgroup', ctrl, this.cgroupParent);
      if (!existsSync(dir)) continue;
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) try { rmdirSync(join(dir, e.name)); } catch { /* busy */ }
      try {
        rmdirSync(dir);
      } catch {
        // a controller still holds a process: reported by leftovers()
      }
    }
    if (this.mountNs) {
      // the daemon's mount namespace goes with its last process; then the harness's own mount points
      releaseNamespace(this.mountNs);
      for (const m of [...this.mountsUnder(this.dir), ...this.hostMounts].sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
      this.hostMounts.length = 0;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Lazily unmounts `m` in the daemon's mount namespace (if it has one) and in the test's. */
  private unmount(m: string): void {
    if (this.mountNs && isMountPoint(this.mountNs)) spawnSync('nsenter', [`--mount=${this.mountNs}`, '--', 'umount', '-l', m]);
    spawnSync('umount', ['-l', m]);
  }
}
