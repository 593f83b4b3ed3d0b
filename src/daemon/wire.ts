/**
 * The composition root: builds each service from the ones it needs, runs
 * start-up recovery, and serves the API. No business logic here.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '../lib/logger.js';
import { InvalidParameter, SystemError } from '../errdefs/index.js';
import { ContentStore, FileContentStore } from './content/content-store.js';
import { LayerBlobIndex } from './content/layer-blobs.js';
import { ArchiveService } from './containers/archive/archive.js';
import { ContainerStore } from './containers/container-store.js';
import type { ContainerRecord } from './containers/record.js';
import { ServicesEnvironment } from './containers/environment.js';
import { ExecService } from './containers/exec.js';
import { ExecRegistry } from './containers/exec-registry.js';
import { HealthChecks } from './containers/health-checks.js';
import { ContainerFilesystem } from './containers/diff-export-commit.js';
import { ContainerQueries } from './containers/queries.js';
import { ContainerRunner } from './containers/runner.js';
import { boundingCapabilities } from './containers/security/capabilities.js';
import { findInitBinary } from './containers/security/init-binary.js';
import { readRootfsFile } from './containers/archive/rootfs-file.js';
import { LiveContainers } from './containers/live.js';
import { KeyedLock } from '../lib/keyed-lock.js';
import { RuntimeEventRelay } from './runtime/runtime.js';
import { engineId } from './system/engine-id.js';
import { ContainerSecurity } from './containers/security/security.js';
import { parseKernelVersion, seccompArch } from './containers/security/seccomp.js';
import { ContainerService } from './containers/service.js';
import { loadRemap, prepareRemappedRoot } from './containers/security/userns-setup.js';
import type { DaemonConfig } from './config.js';
import { EventBus } from './events/event-bus.js';
import { sweepOrphans } from './images/gc.js';
import { ImageStore } from './images/image-store.js';
import { ImageService } from './images/service.js';
import { OverlayLayerStore } from './layers/layer-store.js';
import { CniRunner } from './networks/cni.js';
import { HostPorts } from './networks/host-ports.js';
import { NetnsDir } from './networks/netns.js';
import { NetworkStore } from './networks/network-store.js';
import { networkPreflight } from './networks/preflight.js';
import { ContainerNetworking } from './networks/sandbox.js';
import { NetworkService } from './networks/service.js';
import { preflight } from './preflight.js';
import { ShimRuntime } from './runtime/shim/shim-runtime.js';
import { ApiServer } from './server/http-server.js';
import { prepareTransport } from './server/transport/prepare.js';
import type { Handler } from './server/request.js';
import { Router } from './server/router.js';
import { debugRoutes } from './server/routes/system/debug-routes.js';
import { tracer } from '../lib/spans.js';
import { installSpawner, Spawner } from '../lib/spawner/client.js';
import { findSpawner } from '../lib/spawner/locate.js';
import { archiveRoutes } from './server/routes/containers/archive-routes.js';
import { filesystemRoutes } from './server/routes/containers/filesystem-routes.js';
import { containerRoutes } from './server/routes/containers/routes.js';
import { execRoutes } from './server/routes/exec/routes.js';
import { imageRoutes } from './server/routes/images/routes.js';
import { distributionRoutes } from './server/routes/distribution/routes.js';
import { BuildCacheService } from './builder/build-cache-service.js';
import { BackgroundTasks } from '../lib/background-tasks.js';
import { sweepRuncRoot } from './runtime/runc-run.js';
import { CacheUsage } from './builder/cache-usage.js';
import { ContextStore } from './builder/context-store.js';
import { missingContent } from './builder/context-manifest.js';
import { buildRoutes } from './server/routes/build/routes.js';
import { hostPlatform } from '../oci/platform.js';
import { parseReference, withDefaultTag } from '../oci/reference.js';
import { LazyRegistry } from './lazy/registry.js';
import { networkRoutes } from './server/routes/networks/routes.js';
import { volumeRoutes } from './server/routes/volumes/routes.js';
import { systemRoutes } from './server/routes/system/routes.js';
import { nodeRoutes, swarmRoutes } from './server/routes/swarm/routes.js';
import { configRoutes, secretRoutes } from './server/routes/secrets/routes.js';
import { LazySwarm } from './lazy/swarm.js';
import { LazyPlugins } from './lazy/plugins.js';
import { loaded, loadedBuiltins } from './lazy/once.js';
import { serviceRoutes } from './server/routes/services/routes.js';
import { gatherHostFacts } from './system/host-facts.js';
import { DiskUsageService } from './system/disk-usage.js';
import { directoryUsage } from '../lib/disk-usage.js';
import { SystemService } from './system/system-service.js';
import { VolumeService } from './volumes/service.js';
import { VolumeStore } from './volumes/volume-store.js';
import { PluginLocator } from './plugins/discovery.js';
import { PluginRegistry } from './plugins/registry.js';
import { PluginVolumeDrivers } from './plugins/volume-driver.js';
import { PluginNetworkDrivers } from './plugins/network-driver.js';
import { AuthzPlugins } from './plugins/authz.js';
import { pluginRoutes } from './server/routes/plugins/routes.js';
import { diskUsageRoutes } from './server/routes/system/df-routes.js';
import { imageSummary } from './images/views.js';
import { fullGc, IdleReclaimer } from '../lib/idle-reclaim.js';

export const ENGINE_VERSION = '27.0.0-berth';

export interface Daemon {
  /** Stops serving; stops containers unless live-restore is on. */
  shutdown(): Promise<void>;
}

/** Requests whose spans GET /debug/spans keeps (with --debug). */
const DEBUG_SPAN_TRACES = 100;

/** Programs and mounts go through native/berth-spawner when the build made it (lib/spawner/client.ts). */
async function startSpawner(log: Logger): Promise<void> {
  const path = await findSpawner();
  if (!path) {
    log.warn('berth-spawner not built (scripts/build-native.sh); programs are started through child_process (slower)');
    return;
  }
  const spawner = new Spawner(path, log);
  spawner.start();
  installSpawner(spawner);
}

export async function startDaemon(cfg: DaemonConfig, log = new Logger(cfg.logLevel)): Promise<Daemon> {
  // first: a bad certificate or an insecure -H tcp:// must stop berthd before it touches anything
  const transport = await prepareTransport(cfg, log);
  await startSpawner(log);
  await preflight(cfg.shimBinary);
  await networkPreflight();
  const pluginTimeoutMs = cfg.pluginTimeout * 1000;
  const plugins = new PluginRegistry({
    locator: new PluginLocator({ socketDir: cfg.pluginSocketDir, specDirs: cfg.pluginSpecDirs }), timeoutMs: pluginTimeoutMs, log,
  });
  // dockerd refuses to start when an authorization plugin is missing: never serve unguarded
  const authz = cfg.authorizationPlugins.length ? new AuthzPlugins(cfg.authorizationPlugins, plugins) : undefined;
  await authz?.validate().catch((err: Error) => {
    throw new InvalidParameter('daemon.authz_plugin', `failed to validate authorization plugin: ${err.message}`);
  });
  await mkdir(cfg.dataRoot, { recursive: true, mode: 0o711 });
  await mkdir(cfg.execRoot, { recursive: true, mode: 0o700 });
  const facts = await gatherHostFacts(cfg.shimBinary);
  const events = new EventBus();
  // userns-remap: every store lives in <data-root>/<uid>.<gid>, with layers owned by the remapped ids
  const remap = cfg.usernsRemap ? await loadRemap(cfg.usernsRemap, log) : undefined;
  const storeRoot = remap ? await prepareRemappedRoot(cfg.dataRoot, remap.map) : cfg.dataRoot;
  if (remap) log.info('user namespaces: ID ranges will be mapped to subuid/subgid ranges', { user: remap.user, group: remap.group, root: storeRoot });
  const initPath = await findInitBinary(cfg.initPath);

  const content: ContentStore & { init(): Promise<void> } = new FileContentStore(join(storeRoot, 'content'));
  const layers = new OverlayLayerStore(join(storeRoot, 'layers'), { ...(remap ? { idMap: remap.map } : {}), maxLayerSize: cfg.maxLayerSize });
  const images = new ImageStore(join(storeRoot, 'images'), content);
  const layerBlobs = new LayerBlobIndex(join(storeRoot, 'content'));
  const containerStore = new ContainerStore(join(storeRoot, 'containers'));
  const availableCapabilities = await boundingCapabilities();
  const security = new ContainerSecurity({
    arch: seccompArch(process.arch), kernel: parseKernelVersion(facts.kernel), ncpu: facts.ncpu, availableCapabilities,
    ...(remap ? { idMap: remap.map } : {}), ...(initPath ? { initPath } : {}), ...(cfg.init ? { initByDefault: true } : {}),
  });
  await content.init();
  await layerBlobs.init();
  await layers.init();
  await images.init();
  const records = await containerStore.init();
  const containerLayers = () => containerStore.list().flatMap((r) => (r.layer ? [r.layer] : []));
  // what an interrupted load, import, commit or rmi left behind
  const swept = await sweepOrphans({ content, layerBlobs, layers, images, containerLayers });
  if (swept.images + swept.layers + swept.blobs) log.info('removed orphans of interrupted image operations', { ...swept });

  const execRegistry = new ExecRegistry();
  const runtimeEvents = new RuntimeEventRelay();
  const runtime = new ShimRuntime({ execRoot: cfg.execRoot, namespace: 'berth', shimBinary: cfg.shimBinary, events: runtimeEvents, log });
  // what the runner shares with the services that act on a running container
  const live = new LiveContainers();
  const locks = new KeyedLock();
  await runtime.init();
  const volumeStore = new VolumeStore(join(storeRoot, 'volumes'));
  await volumeStore.init();
  const usingVolume = (r: ContainerRecord, name: string) => r.mounts.some((m) => m.Type === 'volume' && m.Name === name);
  const volumes = new VolumeService({
    store: volumeStore, events, log, drivers: new PluginVolumeDrivers(plugins, pluginTimeoutMs, log),
    users: {
      usersOf: (name) => containerStore.list().filter((r) => usingVolume(r, name)).map((r) => r.id),
      runningUsersOf: (name) => containerStore.list().filter((r) => r.state.Running && usingVolume(r, name)).map((r) => r.id),
      mountsOf: (ref) => containerStore.get(ref).mounts,
    },
  });
  const networkStore = new NetworkStore(join(storeRoot, 'networks'));
  const networks = new NetworkService({
    store: networkStore, events, log, containers: () => containerStore.list(), bridgeName: cfg.bridge, bip: cfg.bip,
    plugins: new PluginNetworkDrivers(plugins),
  });
  await networks.init();
  const netns = new NetnsDir(join(cfg.execRoot, 'netns'), remap ? { idMap: remap.map } : {});
  await netns.init();
  const sandboxes = new ContainerNetworking({
    networks, store: networkStore, netns, cni: new CniRunner(), ports: new HostPorts(), events, log,
    containers: {
      get: (ref) => containerStore.get(ref),
      save: (rec) => containerStore.save(rec),
      withLock: (id, fn) => locks.with(id, fn),
      readFile: (id, name) => readFile(join(containerStore.dir(id), name), 'utf8'),
    },
  });
  const env = new ServicesEnvironment(volumes, sandboxes, log);
  const execs = new ExecService({
    registry: execRegistry, events, log,
    runningTask: (ref) => {
      const rec = containerStore.get(ref);
      return { rec, task: live.runningTask(rec) };
    },
    readRootfsFile: (id, path) => readRootfsFile(containerStore.paths(id).merged, path),
    availableCapabilities,
  });
  const health = new HealthChecks({
    probe: (id, argv, timeoutMs, signal) => execs.probe(id, argv, timeoutMs, signal),
    save: (rec) => containerStore.save(rec), events, log,
  });
  const run = new ContainerRunner({
    store: containerStore, layers, runtime, events, log, env, execs: execRegistry,
    cgroupParent: cfg.cgroupParent, cgroupVersion: facts.cgroupVersion, security, health, live, lock: locks,
  });
  runtimeEvents.listenOom((id) => run.noteOom(id));
  const containers = new ContainerService({ store: containerStore, images, runner: run, events, log, env, cgroupVersion: facts.cgroupVersion, security, health });
  const containerViews = new ContainerQueries({ store: containerStore, images, layers, execs: execRegistry, runner: run, cgroupVersion: facts.cgroupVersion });
  const archive = new ArchiveService({
    store: containerStore, layers, events, log, paths: (id) => containerStore.paths(id),
    withLock: (id, fn) => locks.with(id, fn), ...(remap ? { idMap: remap.map } : {}),
  });
  const imageService = new ImageService({
    images, layers, content, layerBlobs, events, log, engineVersion: ENGINE_VERSION, containerLayers,
    containersUsing: (id) => containerStore.list().filter((r) => r.image === id).map((r) => ({ id: r.id, running: r.state.Running })),
  });
  const registries = new LazyRegistry({ insecureRegistries: cfg.insecureRegistries, registryMirrors: cfg.registryMirrors, certsDir: cfg.registryCertsDir, ...(cfg.registryHostsDir ? { hostsDir: cfg.registryHostsDir } : {}) });
  const distribution = registries.distribution({
    content, layerBlobs, layers, images, events, log,
    maxConcurrentDownloads: cfg.maxConcurrentDownloads, maxConcurrentUploads: cfg.maxConcurrentUploads, maxLayerSize: cfg.maxLayerSize,
  });
  const filesystem = new ContainerFilesystem({
    container: (ref) => containerStore.get(ref), paths: (id) => containerStore.paths(id),
    runningTask: (ref) => ({ task: live.runningTask(containerStore.get(ref)) }),
    images, layers, content, layerBlobs, events, log, tmpRoot: join(storeRoot, 'tmp'), engineVersion: ENGINE_VERSION,
  });
  // build steps a killed daemon left running (runc run outlives it): before their rootfs mounts are swept
  const buildRuncRoot = join(cfg.execRoot, 'build-runc');
  await sweepRuncRoot(buildRuncRoot, log);
  await filesystem.init();
  // the swarm agent acts on task containers only once their states are restored
  let containersRestored!: () => void;
  const restored = new Promise<void>((r) => { containersRestored = r; });
  const swarm = new LazySwarm({
    dataRoot: cfg.dataRoot, hostname: facts.hostname, engineVersion: ENGINE_VERSION, ncpu: facts.ncpu, memTotal: facts.memTotal, bridge: cfg.bridge, log,
    publishEvent: (type, action, id, attrs) => events.publish(type, action, id, attrs, 'swarm'),
    tasks: {
      restored,
      records: () => containerStore.list(),
      hasImage: (ref) => !!images.tryResolve(ref),
      pull: async (ref) => {
        const r = withDefaultTag(parseReference(ref));
        await distribution.pull(`${r.domain}/${r.path}`, r.digest ?? r.tag, hostPlatform(), {}, () => {});
      },
      create: (req, name) => containers.create(req, name, { managed: true }),
      start: (id) => containers.start(id),
      stop: (id) => containers.stop(id),
      remove: (id) => containers.remove(id, { force: true }),
      events,
    },
    containerLogs: (id, q, signal) => containerViews.logs(id, q, signal).entries,
    networks,
    containerRunning: (id) => !!containerStore.find(id)?.state.Running,
  });
  // loads swarm mode only if this node is in a swarm (one missing file otherwise)
  await swarm.boot();
  const system = new SystemService({
    engineVersion: ENGINE_VERSION,
    daemonId: await engineId(cfg.dataRoot),
    dataRoot: storeRoot,
    facts,
    securityOptions: ['name=seccomp,profile=builtin', ...(facts.cgroupVersion === 2 ? ['name=cgroupns'] : []), ...(remap ? ['name=userns'] : [])],
    events,
    liveRestore: cfg.liveRestore,
    debug: cfg.debug || cfg.logLevel === 'debug',
    counts: () => ({ containers: containerViews.counts(), images: images.list().length }),
    swarm: () => swarm.info(),
    swarmPingState: () => swarm.pingState(),
    authorizationPlugins: cfg.authorizationPlugins,
    volumePlugins: () => plugins.activeNames('VolumeDriver'),
    networkPlugins: () => plugins.activeNames('NetworkDriver'),
  });

  // loads the managed plugins only if there are any
  const managedPlugins = new LazyPlugins({
    execRoot: cfg.execRoot, storeRoot, shimBinary: cfg.shimBinary, socketRoot: cfg.pluginSocketDir,
    cgroupParent: cfg.cgroupParent, cgroupVersion: facts.cgroupVersion, timeoutMs: pluginTimeoutMs, maxBytes: cfg.maxLayerSize, log, events,
    registry: plugins, volumeDrivers: () => volumeStore.list().map((v) => v.driver),
  });
  await managedPlugins.boot();

  volumes.adoptMounts(records);
  await run.restore(records);
  await sandboxes.reconcile(containerStore.list());
  await swarm.settle();
  containersRestored();

  const router = new Router<Handler>();
  systemRoutes(router, system);
  // dockerd serves /debug only in debug mode; the spans are recorded only then too
  if (cfg.debug) {
    tracer.enable(DEBUG_SPAN_TRACES);
    debugRoutes(router, { recent: () => tracer.recent(), lazyParts: loaded, builtins: loadedBuiltins });
  }
  containerRoutes(router, containers, containerViews);
  archiveRoutes(router, archive);
  imageRoutes(router, imageService, distribution);
  const cacheUsage = new CacheUsage(join(storeRoot, 'build-cache-usage.json'));
  const contextStore = new ContextStore(join(storeRoot, 'build-context-store'));
  // a build's clean-up runs after its answer: df, prune and shutdown wait for it
  const buildCleanups = new BackgroundTasks();
  const buildCache = new BuildCacheService({ contextStore, buildsSettled: () => buildCleanups.settled(),
    images: () => images.list(), tagsOf: (id) => images.tagsOf(id), usedByContainer: (id) => containerStore.list().some((r) => r.image === id),
    removeImage: (id) => imageService.removeCacheImage(id), cacheRoot: join(storeRoot, 'build-cache-mounts'), usage: cacheUsage,
  });
  buildRoutes(router, {
    // the builder loads on the first build: idle memory (issue 18)
    build: async (context, o, emit, exportFiles, signal) => {
      const [{ build }, { buildContainers }, { secretKey }] = await Promise.all([
        import('./builder/builder.js'), import('./builder/containers.js'), import('./builder/secret-key.js'),
      ]);
      return build({
      images, layers, content, layerBlobs, tmpRoot: join(storeRoot, 'tmp'), maxContextSize: cfg.maxLayerSize, engineVersion: ENGINE_VERSION,
      steps: buildContainers({
        images, layers, env, security, filesystem, cgroupParent: cfg.cgroupParent, cgroupVersion: facts.cgroupVersion,
        runcRoot: buildRuncRoot, fifoDir: join(cfg.execRoot, 'build-fifos'), log, initLayer: containerStore.initLayer,
      }),
      cacheRoot: join(storeRoot, 'build-cache-mounts'),
      secretKey: () => secretKey(join(storeRoot, 'build-secret.key')),
      allowInsecure: cfg.allowInsecureEntitlement,
      cacheUsage,
      contextStore,
      // what a failed clean-up leaves (a mount, a work directory) is a leak: said at warn, not debug
      afterAnswer: (task) => buildCleanups.add(task, (err) => log.warn('a build\'s clean-up failed', { error: err instanceof Error ? err.message : String(err) })),
      pull: async (ref, progress) => {
        const r = withDefaultTag(parseReference(ref));
        await distribution.pull(`${r.domain}/${r.path}`, r.digest ?? r.tag, hostPlatform(), {}, progress);
      },
    }, context, o, emit, exportFiles, signal);
    },
    missingContent: (digests) => missingContent(contextStore, digests),
    prune: (o) => buildCache.prune(o),
  });
  distributionRoutes(router, distribution);
  volumeRoutes(router, volumes);
  pluginRoutes(router, managedPlugins.api, registries.plugins(async () => {
    const { managed, store } = await managedPlugins.load();
    return { plugins: managed, store, content, maxLayerSize: cfg.maxLayerSize };
  }));
  networkRoutes(router, networks, sandboxes);
  filesystemRoutes(router, filesystem);
  diskUsageRoutes(router, new DiskUsageService({
    images: () => images.list(),
    summary: (img) => imageSummary(img, images.tagsOf(img.id), true),
    layers,
    containers: () => containerViews.diskUsage(),
    isIntermediate: (img) => images.isIntermediate(img.id),
    volumes: () => volumes.usage(),
    buildCache: () => buildCache.records(),
  }));
  execRoutes(router, execs);
  swarmRoutes(router, swarm.api);
  nodeRoutes(router, swarm.nodes);
  secretRoutes(router, swarm.secrets);
  configRoutes(router, swarm.configs);
  serviceRoutes(router, swarm.services, swarm.serviceLogs);
  // a burst's garbage and buffers go back to the system once the API is quiet
  const reclaim = new IdleReclaimer(fullGc());
  const server = new ApiServer({
    router, engineVersion: ENGINE_VERSION, log, ...(authz ? { authorizer: authz } : {}), onRequest: () => reclaim.poke(),
    ...(transport.tls ? { tls: transport.tls } : {}), socketGid: transport.socketGroup.gid, limits: transport.limits,
  });
  let cri: { close(): Promise<void> } | undefined;
  try {
    // the CRI shares the Engine API's services (gRPC is loaded only when it is on); up before the
    // Engine API answers, so a client that sees the daemon answer finds the CRI socket too
    if (cfg.criSocket) {
      cri = await (await import('./cri/start.js')).startCriEndpoint({
        socket: cfg.criSocket, sandboxImage: cfg.criSandboxImage, containers, execs,
        killExec: async (id) => execRegistry.get(id).process?.kill(9),
        records: { list: () => containerStore.list(), find: (ref) => containerStore.find(ref) },
        images, removeImage: (ref, o) => imageService.remove(ref, o), layersDir: join(storeRoot, 'layers'), shmRoot: join(cfg.execRoot, 'cri-shm'),
        pull: async (ref, creds) => {
          const r = parseReference(ref);
          await distribution.pull(`${r.domain}/${r.path}`, r.digest ?? r.tag, hostPlatform(), creds, () => {});
        },
        sample: async (id) => {
          for await (const s of containerViews.stats(id, { stream: false, oneShot: true })) return s;
          throw new SystemError('cri.stats', `no stats sample for container ${id}`);
        },
        importImage: async (rootfs, ref, changes) => {
          await imageService.import(rootfs, { repo: ref, changes, message: 'berth: pod infra image' });
        },
        reopenLog: async (id) => {
          const w = run.logWriter(id);
          if (!w) return false;
          await w.reopen();
          return true;
        },
        writableLayer: async (id) => {
          const upper = run.paths(id).upper;
          return { mountpoint: upper, ...(await directoryUsage(upper)) };
        },
        runtimeVersion: ENGINE_VERSION, log,
      });
    }
    if (transport.warnings.length) {
      for (const w of transport.warnings) log.warn(w);
      await new Promise((r) => setTimeout(r, 1_000)); // dockerd's pause, so the warning is seen
    }
    for (const l of transport.listeners) await server.listen(l.host);
    reclaim.poke(); // boot's own garbage goes back too, even if no request comes
  } catch (err) {
    await cri?.close();
    await server.close();
    await swarm.stopOverlay(true);
    await managedPlugins.shutdown(false);
    await managedPlugins.closeRuntime();
    await swarm.shutdown();
    await runtime.close();
    await networks.shutdown(false);
    await netns.close();
    throw err;
  }
  log.info('berthd started', { version: ENGINE_VERSION, dataRoot: cfg.dataRoot, execRoot: cfg.execRoot });
  void run.applyRestartPolicies(records);

  return {
    async shutdown() {
      reclaim.stop();
      await cri?.close();
      await server.close();
      await buildCleanups.settled();
      if (cfg.liveRestore) await run.detachAll();
      else await run.stopAll();
      await swarm.stopOverlay(cfg.liveRestore);
      await networks.shutdown(cfg.liveRestore);
      await netns.close();
      await managedPlugins.shutdown(cfg.liveRestore);
      await runtime.close();
      await managedPlugins.closeRuntime();
      await swarm.shutdown();
      log.info('berthd stopped');
    },
  };
}
