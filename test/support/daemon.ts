/**
 * Starts a real berthd for a test on its own socket, data root, exec root
 * and cgroup parent, and takes everything down afterwards: containers,
 * shims, mounts, cgroups, files. `leftovers()` tells a test what would
 * have stayed behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

function runProgram(cmd: string, args: string[], env: NodeJS.ProcessEnv, o: CommandOptions = {}): Promise<Run> {
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
  private proc: ChildProcess | undefined;
  logs = '';

  private constructor(private readonly opts: DaemonOptions) {
    this.dir = mkdtempSync('/tmp/berth-e2e-');
    this.socket = join(this.dir, 'berth.sock');
    this.dataRoot = opts.dataRoot ?? join(this.dir, 'data');
    this.execRoot = join(this.dir, 'exec');
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

  async launch(): Promise<void> {
    const args = ['-H', this.host, '--data-root', this.dataRoot, '--exec-root', this.execRoot, '--cgroup-parent', this.cgroupParent,
      '--config-file', join(this.dir, 'daemon.json'), '-l', 'debug', '--bridge', this.bridge, '--bip', this.bip, ...(this.opts.extraArgs ?? [])];
    const proc = spawn(BERTHD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout!.on('data', (d: Buffer) => (this.logs += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.logs += d.toString()));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`berthd exited at start:\n${this.logs}`);
      if (await this.ping()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`berthd did not answer within 15 s:\n${this.logs}`);
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
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(this.dir));
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
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter((n) => bridges.includes(n));
    const save = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout.split('\n');
    const rules = save.filter((l) => !l.startsWith('#') && (l.includes(`-${this.bridge}`) || bridges.some((b) => new RegExp(`-[io] ${b}\\b`).test(l))));
    const netnsDir = join(this.execRoot, 'netns');
    const netns = existsSync(netnsDir) ? readdirSync(netnsDir) : [];
    return { links, rules, netns };
  }

  /** Removes every container, stops the daemon, and clears what is left (processes we started only). */
  async destroy(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      const ids = (await this.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.docker(['rm', '-f', ...ids]);
    }
    await this.stopDaemon();
    const net = this.netLeftovers();
    if (net.links.length || net.rules.length || net.netns.length) {
      // killed, not stopped: a clean start and stop takes the daemon's networks down
      await this.launch().then(() => this.stopDaemon(), () => this.stopDaemon());
    }
    const left = this.leftovers();
    for (const pid of left.shims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const m of left.mounts.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
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
    rmSync(this.dir, { recursive: true, force: true });
  }
}
