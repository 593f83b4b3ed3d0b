/**
 * The composition root: builds each service from the ones it needs, runs
 * start-up recovery, and serves the API. No business logic here.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '../lib/logger.js';
import { ContentStore, FileContentStore } from './content/content-store.js';
import { LayerBlobIndex } from './content/layer-blobs.js';
import { ContainerStore } from './containers/container-store.js';
import { IsolatedEnvironment } from './containers/environment.js';
import { ExecService } from './containers/exec.js';
import { ExecRegistry } from './containers/exec-registry.js';
import { ContainerFilesystem } from './containers/filesystem.js';
import { ContainerQueries } from './containers/queries.js';
import { ContainerRunner } from './containers/runner.js';
import { ContainerService } from './containers/service.js';
import type { DaemonConfig } from './config.js';
import { EventBus } from './events/event-bus.js';
import { sweepOrphans } from './images/gc.js';
import { ImageStore } from './images/image-store.js';
import { ImageService } from './images/service.js';
import { OverlayLayerStore } from './layers/layer-store.js';
import { preflight } from './preflight.js';
import { ShimRuntime } from './runtime/shim/shim-runtime.js';
import { ApiServer } from './server/http-server.js';
import { prepareTransport } from './server/transport/prepare.js';
import type { Handler } from './server/request.js';
import { Router } from './server/router.js';
import { filesystemRoutes } from './server/routes/containers/filesystem-routes.js';
import { containerRoutes } from './server/routes/containers/routes.js';
import { execRoutes } from './server/routes/exec/routes.js';
import { imageRoutes } from './server/routes/images/routes.js';
import { systemRoutes } from './server/routes/system/routes.js';
import { gatherHostFacts } from './system/host-facts.js';
import { DiskUsageService } from './system/disk-usage.js';
import { SystemService } from './system/system-service.js';
import { diskUsageRoutes } from './server/routes/system/df-routes.js';
import { imageSummary } from './images/views.js';

export const ENGINE_VERSION = '27.0.0-berth';

export interface Daemon {
  /** Stops serving; stops containers unless live-restore is on. */
  shutdown(): Promise<void>;
}

async function daemonId(dataRoot: string): Promise<string> {
  const path = join(dataRoot, 'engine-id');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const id = randomBytes(16).toString('hex');
    await writeFile(path, id);
    return id;
  }
}

export async function startDaemon(cfg: DaemonConfig, log = new Logger(cfg.logLevel)): Promise<Daemon> {
  // first: a bad certificate or an insecure -H tcp:// must stop berthd before it touches anything
  const transport = await prepareTransport(cfg, log);
  await preflight(cfg.shimBinary);
  await mkdir(cfg.dataRoot, { recursive: true, mode: 0o711 });
  await mkdir(cfg.execRoot, { recursive: true, mode: 0o700 });
  const facts = await gatherHostFacts(cfg.shimBinary);
  const events = new EventBus();

  const content: ContentStore & { init(): Promise<void> } = new FileContentStore(join(cfg.dataRoot, 'content'));
  const layers = new OverlayLayerStore(join(cfg.dataRoot, 'layers'));
  const images = new ImageStore(join(cfg.dataRoot, 'images'), content);
  const layerBlobs = new LayerBlobIndex(join(cfg.dataRoot, 'content'));
  const containerStore = new ContainerStore(join(cfg.dataRoot, 'containers'));
  await content.init();
  await layerBlobs.init();
  await layers.init();
  await images.init();
  const records = await containerStore.init();
  const containerLayers = () => containerStore.list().flatMap((r) => (r.layer ? [r.layer] : []));
  // what an interrupted load, import, commit or rmi left behind
  const swept = await sweepOrphans({ content, layerBlobs, layers, images, containerLayers });
  if (swept.images + swept.layers + swept.blobs) log.info('removed orphans of interrupted image operations', { ...swept });

  let runner: ContainerRunner | undefined;
  const execRegistry = new ExecRegistry();
  const runtime = new ShimRuntime({
    execRoot: cfg.execRoot,
    namespace: 'berth',
    shimBinary: cfg.shimBinary,
    events: { onOom: (id) => runner?.noteOom(id) },
  });
  await runtime.init();
  const env = new IsolatedEnvironment();
  const run = new ContainerRunner({
    store: containerStore, layers, runtime, events, log, env, execs: execRegistry,
    cgroupParent: cfg.cgroupParent, cgroupVersion: facts.cgroupVersion,
  });
  runner = run;
  const containers = new ContainerService({ store: containerStore, images, runner: run, events, log, env, cgroupVersion: facts.cgroupVersion });
  const containerViews = new ContainerQueries({ store: containerStore, images, layers, execs: execRegistry, runner: run, cgroupVersion: facts.cgroupVersion });
  const execs = new ExecService({
    registry: execRegistry, events, log,
    runningTask: (ref) => {
      const rec = containerStore.get(ref);
      return { rec, task: run.runningTask(rec) };
    },
    readRootfsFile: (id, path) => run.readRootfsFile(id, path),
  });
  const imageService = new ImageService({
    images, layers, content, layerBlobs, events, log, engineVersion: ENGINE_VERSION, containerLayers,
    containersUsing: (id) => containerStore.list().filter((r) => r.image === id).map((r) => ({ id: r.id, running: r.state.Running })),
  });
  const filesystem = new ContainerFilesystem({
    container: (ref) => containerStore.get(ref), paths: (id) => run.paths(id),
    runningTask: (ref) => ({ task: run.runningTask(containerStore.get(ref)) }),
    images, layers, content, layerBlobs, events, log, tmpRoot: join(cfg.dataRoot, 'tmp'), engineVersion: ENGINE_VERSION,
  });
  await filesystem.init();
  const system = new SystemService({
    engineVersion: ENGINE_VERSION,
    daemonId: await daemonId(cfg.dataRoot),
    dataRoot: cfg.dataRoot,
    facts,
    events,
    liveRestore: cfg.liveRestore,
    debug: cfg.logLevel === 'debug',
    counts: () => ({ containers: containerViews.counts(), images: images.list().length }),
  });

  await run.restore(records);

  const router = new Router<Handler>();
  systemRoutes(router, system);
  containerRoutes(router, containers, containerViews);
  imageRoutes(router, imageService);
  filesystemRoutes(router, filesystem);
  diskUsageRoutes(router, new DiskUsageService({
    images: () => images.list(),
    summary: (img) => imageSummary(img, images.tagsOf(img.id), true),
    layers,
    containers: async () => {
      const byId = new Map((await containerViews.list({ all: true, filters: new Map() })).map((s) => [s.Id, s]));
      return containerStore.list().flatMap((r) => {
        const summary = byId.get(r.id);
        return summary ? [{ summary, imageId: r.image, upperDir: run.paths(r.id).upper }] : [];
      });
    },
  }));
  execRoutes(router, execs);
  const server = new ApiServer({
    router, engineVersion: ENGINE_VERSION, log,
    ...(transport.tls ? { tls: transport.tls } : {}), socketGid: transport.socketGroup.gid, limits: transport.limits,
  });
  try {
    if (transport.warnings.length) {
      for (const w of transport.warnings) log.warn(w);
      await new Promise((r) => setTimeout(r, 1_000)); // dockerd's pause, so the warning is seen
    }
    for (const l of transport.listeners) await server.listen(l.host);
  } catch (err) {
    await server.close();
    await runtime.close();
    throw err;
  }
  log.info('berthd started', { version: ENGINE_VERSION, dataRoot: cfg.dataRoot, execRoot: cfg.execRoot });
  void run.applyRestartPolicies(records);

  return {
    async shutdown() {
      await server.close();
      if (cfg.liveRestore) run.detachAll();
      else await run.stopAll();
      await runtime.close();
      log.info('berthd stopped');
    },
  };
}
