/**
 * The local etcd member of a manager node: started by berthd, but not a
 * child that dies with it. A berthd crash or upgrade must not take the
 * cluster store down, so etcd runs detached in its own session, its output
 * in a log file, its pid in a pid file; the next berthd adopts it.
 *
 *   <data-root>/swarm/etcd/
 *   ├── etcd.pid     pid of the running member (written after spawn)
 *   ├── etcd.log     etcd's stdout and stderr (appended across restarts)
 *   └── data/        etcd's --data-dir (member/wal, member/snap)
 *
 * Lifecycle (a first manager, then a second one joining):
 *
 *   const m1 = new EtcdMember({ name: 'node-a', dataRoot, clientUrl: 'https://10.0.0.1:2379',
 *     peerUrl: 'https://10.0.0.1:2380', tls, initialCluster: 'node-a=https://10.0.0.1:2380', clusterState: 'new' });
 *   await m1.start();           // adopts a live member for this data dir, or spawns one
 *   await m1.waitHealthy();
 *   // on node b, through a store connected to node a:
 *   const { members } = await store.addMember(['https://10.0.0.2:2380']);
 *   const m2 = new EtcdMember({ name: 'node-b', ..., clusterState: 'existing',
 *     initialCluster: initialClusterOf(members, 'node-b', 'https://10.0.0.2:2380') });
 *   await m2.start();
 *   // berthd shutting down: m.release() (etcd keeps running)
 *   // swarm leave: await leaveCluster(m, store)  (member remove, stop, delete data)
 *
 * Supervision: while berthd runs, a member that exits without being asked
 * to is restarted with exponential backoff (0.5 s doubling to 30 s, reset
 * after a minute of running). Once etcd has a data dir it ignores the
 * initial-cluster flags, so a restart uses the same arguments.
 *
 * Adoption checks that the recorded pid is really our etcd: its
 * /proc/<pid>/cmdline must name the etcd binary and this member's data
 * dir. A reused pid belonging to another process is never adopted or killed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, constants, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { SystemError, Unavailable } from '../../errdefs/index.js';
import type { Member, Membership } from './store.js';

export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface EtcdMemberOptions {
  /** The member's name in the etcd cluster (the node id). */
  name: string;
  /** berthd's data root; the member lives in <dataRoot>/swarm/etcd. */
  dataRoot: string;
  /** https://host:port the member listens on and advertises to clients. */
  clientUrl: string;
  /** https://host:port the member listens on and advertises to its peers. */
  peerUrl: string;
  /** Client-facing TLS (client-cert-auth on: clients must present a cert signed by caFile). */
  clientTls: TlsFiles;
  /** Peer TLS (peer-client-cert-auth on). */
  peerTls: TlsFiles;
  /** `name=peerUrl,...`: just this member for `new`, every member (this one included) for `existing`. */
  initialCluster: string;
  clusterState: 'new' | 'existing';
  /** Default /usr/bin/etcd. */
  etcdBinary?: string;
  /** Where to report restarts; default nothing. */
  log?: (msg: string) => void;
  /** Backoff for restarts after an unexpected exit, in ms. */
  restartBackoff?: { initialMs: number; maxMs: number };
  /** How often to check an adopted member (not our child) is still alive. Default 1000 ms. */
  pollMs?: number;
}

export interface EtcdPaths {
  dir: string;
  dataDir: string;
  pidFile: string;
  logFile: string;
}

export function etcdPaths(dataRoot: string): EtcdPaths {
  const dir = join(resolve(dataRoot), 'swarm', 'etcd');
  return { dir, dataDir: join(dir, 'data'), pidFile: join(dir, 'etcd.pid'), logFile: join(dir, 'etcd.log') };
}

/** The etcd command line for these options: a pure plan, tested as data. */
export function etcdArgs(o: EtcdMemberOptions): string[] {
  const p = etcdPaths(o.dataRoot);
  return [
    `--name=${o.name}`,
    `--data-dir=${p.dataDir}`,
    `--listen-client-urls=${o.clientUrl}`,
    `--advertise-client-urls=${o.clientUrl}`,
    `--listen-peer-urls=${o.peerUrl}`,
    `--initial-advertise-peer-urls=${o.peerUrl}`,
    `--initial-cluster=${o.initialCluster}`,
    `--initial-cluster-state=${o.clusterState}`,
    '--initial-cluster-token=berth-swarm',
    '--client-cert-auth=true',
    `--trusted-ca-file=${o.clientTls.caFile}`,
    `--cert-file=${o.clientTls.certFile}`,
    `--key-file=${o.clientTls.keyFile}`,
    '--peer-client-cert-auth=true',
    `--peer-trusted-ca-file=${o.peerTls.caFile}`,
    `--peer-cert-file=${o.peerTls.certFile}`,
    `--peer-key-file=${o.peerTls.keyFile}`,
    // Keep an hour of history for watchers that reconnect, then compact: without it the
    // database only grows until etcd's 2 GiB quota stops every write.
    '--auto-compaction-mode=periodic',
    '--auto-compaction-retention=1h',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
}

/** `name=peerUrl,...` for a member joining with `existing`, from the list `addMember` returned. */
export function initialClusterOf(members: Member[], selfName: string, selfPeerUrl: string): string {
  return members
    .map((m) => {
      const isSelf = m.peerUrls.includes(selfPeerUrl);
      const name = isSelf ? selfName : m.name;
      return isSelf || name ? m.peerUrls.map((u) => `${name}=${u}`).join(',') : '';
    })
    .filter(Boolean)
    .join(',');
}

function cmdlineIsEtcdFor(cmdline: string, dataDir: string): boolean {
  const argv = cmdline.split('\0');
  return argv.length > 0 && basename(argv[0]!) === 'etcd' && argv.includes(`--data-dir=${dataDir}`);
}

/** Whether `pid` is an etcd serving `dataDir` (not a reused pid of some other process). For tests; the daemon uses etcdRunsFor. */
export function isEtcdFor(pid: number, dataDir: string): boolean {
  try {
    return cmdlineIsEtcdFor(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), dataDir);
  } catch {
    return false;
  }
}

/** isEtcdFor without blocking the event loop. */
export async function etcdRunsFor(pid: number, dataDir: string): Promise<boolean> {
  try {
    return cmdlineIsEtcdFor(await readFile(`/proc/${pid}/cmdline`, 'utf8'), dataDir);
  } catch {
    return false;
  }
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}


export class EtcdMember {
  readonly paths: EtcdPaths;
  private readonly binary: string;
  private currentPid: number | undefined;
  private child: ChildProcess | undefined;
  private supervising = false;
  private stopping = false;
  private poll: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  /** A restart in flight: stop() waits for it, so it never misses the pid it is writing. */
  private spawning: Promise<void> | undefined;
  private backoffMs: number;
  private startedAt = 0;
  /** Restarts done by supervision since this object was created. */
  restarts = 0;

  constructor(private readonly o: EtcdMemberOptions) {
    this.paths = etcdPaths(o.dataRoot);
    this.binary = o.etcdBinary ?? '/usr/bin/etcd';
    this.backoffMs = o.restartBackoff?.initialMs ?? 500;
  }

  get name(): string {
    return this.o.name;
  }

  get pid(): number | undefined {
    return this.currentPid;
  }

  /** Whether the member process is running now. */
  async alive(): Promise<boolean> {
    return this.currentPid !== undefined && etcdRunsFor(this.currentPid, this.paths.dataDir);
  }

  /**
   * Adopts a live member recorded in the pid file, or spawns one; then
   * supervises it until `release()` or `stop()`.
   */
  async start(): Promise<{ pid: number; adopted: boolean }> {
    await access(this.binary, constants.X_OK).catch(() => {
      throw new Unavailable('swarm.etcd_missing', `etcd is not installed at ${this.binary}: install the Debian package etcd-server`);
    });
    await mkdir(this.paths.dir, { recursive: true, mode: 0o700 });
    this.stopping = false;
    const recorded = await readPid(this.paths.pidFile);
    let adopted = false;
    if (recorded !== undefined && (await etcdRunsFor(recorded, this.paths.dataDir))) {
      this.currentPid = recorded;
      adopted = true;
    } else {
      await this.spawnMember();
      await sleep(200);
      if (!(await this.alive())) throw new SystemError('swarm.etcd_start_failed', `etcd exited at start-up; see ${this.paths.logFile}:\n${await this.logTail()}`);
    }
    this.supervise();
    return { pid: this.currentPid!, adopted };
  }

  private async spawnMember(): Promise<void> {
    const log = await open(this.paths.logFile, 'a', 0o600);
    // etcd reads ETCD_* variables as flags: only ours count.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_')));
    let child: ChildProcess;
    try {
      child = spawn(this.binary, etcdArgs(this.o), { detached: true, stdio: ['ignore', log.fd, log.fd], env, cwd: this.paths.dir });
    } finally {
      await log.close();
    }
    child.unref();
    if (child.pid === undefined) throw new SystemError('swarm.etcd_start_failed', `could not start ${this.binary}; see ${this.paths.logFile}`);
    child.on('error', () => {}); // reported through 'exit' / liveness
    child.on('exit', () => this.onExit(child));
    this.child = child;
    this.currentPid = child.pid;
    this.startedAt = Date.now();
    const tmp = `${this.paths.pidFile}.tmp`;
    await writeFile(tmp, `${child.pid}\n`, { mode: 0o600 });
    await rename(tmp, this.paths.pidFile);
  }

  private supervise(): void {
    this.supervising = true;
    clearInterval(this.poll);
    // Our own child reports its exit; an adopted member is polled.
    this.poll = setInterval(() => {
      if (this.child !== undefined) return;
      void this.alive().then((up) => {
        if (!up && this.child === undefined) this.onExit(undefined);
      });
    }, this.o.pollMs ?? 1000);
    this.poll.unref();
  }

  private onExit(child: ChildProcess | undefined): void {
    if (child !== undefined && child !== this.child) return; // an older incarnation
    this.child = undefined;
    if (!this.supervising || this.stopping || this.restartTimer) return;
    const max = this.o.restartBackoff?.maxMs ?? 30_000;
    if (this.startedAt && Date.now() - this.startedAt > 60_000) this.backoffMs = this.o.restartBackoff?.initialMs ?? 500;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, max);
    this.o.log?.(`etcd member ${this.o.name} (pid ${this.currentPid}) exited; restarting in ${wait} ms`);
    this.restartTimer = setTimeout(() => {
      if (!this.supervising || this.stopping) {
        this.restartTimer = undefined;
        return;
      }
      this.spawning = this.spawnMember().then(
        () => {
          this.restartTimer = undefined;
          this.restarts++;
        },
        (err: Error) => {
          this.restartTimer = undefined;
          this.o.log?.(`etcd member ${this.o.name}: restart failed: ${err.message}`);
          this.onExit(undefined);
        },
      );
    }, wait);
    this.restartTimer.unref();
  }

  /**
   * Waits until the member answers /health as healthy (it has a leader and
   * quorum). Polled tightly at first (a refused connection costs nothing, and
   * a new member is up within a second), backing off to 200 ms.
   */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    let pause = 20;
    const tls = await this.readTls().catch(() => undefined); // health() reports a missing file
    while (Date.now() < deadline) {
      if (this.currentPid !== undefined && !this.supervising && !(await this.alive())) break;
      last = await this.health(tls).catch((err: Error) => err.message);
      if (last === 'true') return;
      await sleep(pause);
      pause = Math.min(Math.round(pause * 1.5), 200);
    }
    throw new SystemError('swarm.etcd_start_failed', `etcd member ${this.o.name} not healthy within ${timeoutMs} ms (${last}); see ${this.paths.logFile}:\n${await this.logTail()}`);
  }

  /** etcd's own answer to GET /health over the client URL: 'true' when it serves. */
  async health(tls?: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<string> {
    const { ca, cert, key } = tls ?? (await this.readTls());
    return new Promise((resolve, reject) => {
      // https loads on use: idle memory for a daemon outside a swarm (issue 18)
      const req = process.getBuiltinModule('node:https').request(
        new URL('/health', this.o.clientUrl),
        { ca, cert, key, timeout: 2000 },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => {
            try {
              resolve(String((JSON.parse(body) as { health?: unknown }).health));
            } catch {
              resolve(body);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('health check timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  private async readTls(): Promise<{ ca: Buffer; cert: Buffer; key: Buffer }> {
    const t = this.o.clientTls;
    const [ca, cert, key] = await Promise.all([readFile(t.caFile), readFile(t.certFile), readFile(t.keyFile)]);
    return { ca, cert, key };
  }

  /** Stops supervising and leaves etcd running (berthd shutting down or restarting). */
  release(): void {
    this.supervising = false;
    clearInterval(this.poll);
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.child?.removeAllListeners('exit');
    this.child = undefined;
  }

  /** Stops supervising and terminates the member: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.release();
    await this.spawning;
    const pid = this.currentPid ?? (await readPid(this.paths.pidFile));
    const running = () => (pid === undefined ? Promise.resolve(false) : etcdRunsFor(pid, this.paths.dataDir));
    if (pid === undefined || !(await running())) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && (await running())) await sleep(100);
    if (await running()) process.kill(pid, 'SIGKILL');
    while (await running()) await sleep(50);
    await rm(this.paths.pidFile, { force: true });
    this.currentPid = undefined;
  }

  /** Stops the member and deletes its data, pid file and log. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.paths.dir, { recursive: true, force: true });
  }

  private async logTail(): Promise<string> {
    try {
      return (await readFile(this.paths.logFile, 'utf8')).split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  }
}

/**
 * `swarm leave` on a manager: removes this member from the etcd cluster
 * (through a store connected to it or to another member), then stops it
 * and deletes its data. Removing first keeps the remaining members' quorum
 * arithmetic right; a member stopped without removal still counts.
 */
export async function leaveCluster(member: EtcdMember, membership: Membership): Promise<void> {
  // a removed member exits by itself: supervision must not start it again
  member.release();
  const self = (await membership.listMembers()).find((m) => m.name === member.name);
  if (self) await membership.removeMember(self.id);
  await member.destroy();
}
