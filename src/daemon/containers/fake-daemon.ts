/**
 * A container service for unit tests, without root: the real container
 * service, runner and exec service over the fake runtime (runtime/fake.ts),
 * a container store in a temp dir, no volumes or networks, and a rootfs
 * "mount" that copies the init layer. Images have no layers and run
 * `sleep 1000` unless the request says otherwise; besides the fake's
 * busybox-like programs, `trap SIGNAL CODE` exits CODE on SIGNAL.
 *
 *   after(cleanupFakeDaemons);
 *   const d = await fakeDaemon();
 *   const id = await d.create({ Cmd: ['app'] });
 *   await d.service.start(id);
 *   d.fake.process(id).exit(3);
 */
import { readRootfsFile } from './archive/rootfs-file.js';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ContainerCreateRequest } from '../../api/types/index.js';
import { Logger } from '../../lib/logger.js';
import { EventBus } from '../events/event-bus.js';
import type { Image } from '../images/image-store.js';
import { CopyLayerStore } from '../layers/copy-layer-store.js';
import { FakeRuntime, type FakeProgram } from '../runtime/fake.js';
import { ContainerStore } from './container-store.js';
import type { ContainerEnvironment } from './environment.js';
import { ExecRegistry } from './exec-registry.js';
import { ExecService } from './exec.js';
import type { ContainerRecord } from './record.js';
import type { RootfsMounter } from './rootfs.js';
import { ContainerRunner } from './runner.js';
import { ContainerService } from './service.js';

const roots: string[] = [];
// the runner's timers (stop timeouts, restart backoff) are unref'd, as a daemon's server keeps it alive: so does this
let keepAlive: NodeJS.Timeout | undefined;

/** Removes what every fake daemon made; call it in the test file's `after`. */
export async function cleanupFakeDaemons(): Promise<void> {
  clearInterval(keepAlive);
  keepAlive = undefined;
  // a fake daemon's last timers (a restart backoff, an exit being recorded) may still write a
  // record while its root goes: retry the removal rather than fail the file's hook (ENOTEMPTY)
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}

const env: ContainerEnvironment = {
  create: async () => {},
  prepare: async (_rec, _rootfs, ready) => {
    await ready;
    return { mounts: [], network: Promise.resolve({ hosts: '127.0.0.1 localhost\n', resolvConf: '' }) };
  },
  release: async () => {},
  remove: async () => {},
};

/** The rootfs "mounted" as a copy of the init layer (the test image has no layers). */
const rootfs: RootfsMounter = {
  mount: async (_layers, p) => {
    await rm(p.merged, { recursive: true, force: true });
    await cp(p.init, p.merged, { recursive: true, verbatimSymlinks: true });
  },
  unmount: async (p) => {
    await rm(p.merged, { recursive: true, force: true });
    await mkdir(p.merged);
  },
};

/** A program that exits `code` when it gets `signal`, as a shell with a trap. */
const trapping: FakeProgram = (p) => p.onSignal(Number(p.args[1]), () => p.exit(Number(p.args[2])));

export interface FakeDaemon {
  fake: FakeRuntime;
  store: ContainerStore;
  runner: ContainerRunner;
  service: ContainerService;
  execs: ExecService;
  events: EventBus;
  create(req?: Partial<ContainerCreateRequest>): Promise<string>;
  rec(id: string): ContainerRecord;
  /** A daemon restart over the same store and runtime state (live restore); `whileDown` runs while no daemon watches. */
  restart(whileDown?: () => void): Promise<FakeDaemon>;
}

/** A container service and runner over the fake runtime, with a store in a temp dir; `restart` is a live-restore daemon restart. */
export async function fakeDaemon(o: { root?: string; fake?: FakeRuntime } = {}): Promise<FakeDaemon> {
  keepAlive ??= setInterval(() => {}, 60_000);
  const root = o.root ?? (await mkdtemp(join(tmpdir(), 'berth-lifecycle-')));
  if (!o.root) roots.push(root);
  let runnerRef: ContainerRunner | undefined;
  // as wire.ts does: the runtime's OOM events go to the runner
  const fake = o.fake ?? new FakeRuntime({ programs: { trap: trapping }, events: { onOom: (id) => runnerRef?.noteOom(id) } });
  const store = new ContainerStore(join(root, 'containers'));
  const records = await store.init();
  const layers = new CopyLayerStore(join(root, 'layers'));
  await layers.init();
  const events = new EventBus();
  const log = new Logger('error', new Writable({ write: (_c, _e, cb) => cb() }));
  const registry = new ExecRegistry();
  const runner = new ContainerRunner({ store, layers, runtime: fake, events, log, env, execs: registry, cgroupParent: '/berth-unit', cgroupVersion: 2, rootfs });
  runnerRef = runner;
  const image = { id: `sha256:${'1'.repeat(64)}`, size: 0, repoDigests: [], config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['sleep', '1000'] } } } as unknown as Image;
  const service = new ContainerService({ store, images: { resolve: () => image }, runner, events, log, env, cgroupVersion: 2 });
  const execs = new ExecService({
    registry, events, log,
    runningTask: (ref) => {
      const rec = store.get(ref);
      return { rec, task: runner.runningTask(rec) };
    },
    readRootfsFile: (id, path) => readRootfsFile(store.paths(id).merged, path),
  });
  await runner.restore(records);
  const d: FakeDaemon = {
    fake, store, runner, service, execs, events,
    create: async (req = {}) => (await service.create({ Image: 'img', ...req } as ContainerCreateRequest)).Id,
    rec: (id) => store.get(id),
    restart: async (whileDown) => {
      await runner.detachAll();
      await fake.close();
      whileDown?.();
      return fakeDaemon({ root, fake: fake.reopen() });
    },
  };
  return d;
}

export function actions(events: EventBus, id: string): string[] {
  return events.subscribe(() => {}).past.filter((e) => e.Actor.ID === id).map((e) => e.Action);
}

export async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

