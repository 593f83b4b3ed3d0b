/** `/version`, `/info` and `/events`: what the daemon says about itself. */
import { arch } from 'node:os';
import type { EventMessage, SwarmInfoView, VersionResponse } from '../../api/types/index.js';
import { API_VERSION, MIN_API_VERSION } from '../../api/version.js';
import { matchesEvent, type EventBus, type EventFilter } from '../events/event-bus.js';
import type { HostFacts } from './host-facts.js';

export interface SystemDeps {
  engineVersion: string;
  daemonId: string;
  dataRoot: string;
  facts: HostFacts;
  events: EventBus;
  liveRestore: boolean;
  debug: boolean;
  /** `name=seccomp,profile=builtin`, `name=userns`, ... (defaults to cgroupns on v2 only). */
  securityOptions?: string[];
  /** The `Swarm` block of /info; inactive when not given. */
  swarm?: () => Promise<SwarmInfoView>;
  /** The `Swarm` header of /_ping: `inactive`, `active/manager`, ... */
  swarmPingState?: () => string;
  /** `--authorization-plugin` names, shown by `docker info`. */
  authorizationPlugins?: string[];
  /** Volume plugins in use (activated), after `local`. */
  volumePlugins?: () => string[];
  /** Network plugins in use (activated), after the built-in drivers. */
  networkPlugins?: () => string[];
  counts(): { containers: { total: number; running: number; paused: number; stopped: number }; images: number };
}

const goArch = (): string => (arch() === 'x64' ? 'amd64' : arch());

export class SystemService {
  constructor(private readonly d: SystemDeps) {}

  version(): VersionResponse {
    const f = this.d.facts;
    const details = {
      ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Arch: goArch(), BuildTime: '', Experimental: 'false',
      GitCommit: '', GoVersion: `node ${process.version}`, KernelVersion: f.kernel, Os: 'linux',
    };
    return {
      Platform: { Name: 'berth' },
      Components: [
        { Name: 'Engine', Version: this.d.engineVersion, Details: details },
        { Name: 'containerd-shim-runc-v2', Version: f.shimVersion, Details: { GitCommit: '' } },
        { Name: 'runc', Version: f.runcVersion, Details: { GitCommit: '' } },
      ],
      Version: this.d.engineVersion,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: details.GoVersion,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: f.kernel,
      BuildTime: '',
    };
  }

  swarmPingState(): string {
    return this.d.swarmPingState?.() ?? 'inactive';
  }

  async info(): Promise<Record<string, unknown>> {
    const f = this.d.facts;
    const c = this.d.counts();
    return {
      ID: this.d.daemonId,
      Containers: c.containers.total,
      ContainersRunning: c.containers.running,
      ContainersPaused: c.containers.paused,
      ContainersStopped: c.containers.stopped,
      Images: c.images,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true'], ['userxattr', 'false']],
      Plugins: {
        Volume: ['local', ...(this.d.volumePlugins?.() ?? [])], Network: ['bridge', 'host', 'null', ...(this.d.networkPlugins?.() ?? [])],
        Authorization: this.d.authorizationPlugins?.length ? this.d.authorizationPlugins : null, Log: ['json-file'],
      },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      BridgeNfIptables: true,
      BridgeNfIp6tables: true,
      Debug: this.d.debug,
      NFd: 0,
      OomKillDisable: f.cgroupVersion === 1,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: String(f.cgroupVersion),
      NEventsListener: 0,
      KernelVersion: f.kernel,
      OperatingSystem: f.operatingSystem,
      OSVersion: f.osVersion,
      OSType: 'linux',
      Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        AllowNondistributableArtifactsCIDRs: [],
        AllowNondistributableArtifactsHostnames: [],
        InsecureRegistryCIDRs: ['127.0.0.0/8'],
        IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
        Mirrors: [],
      },
      NCPU: f.ncpu,
      MemTotal: f.memTotal,
      GenericResources: null,
      DockerRootDir: this.d.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: f.hostname,
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: this.d.engineVersion,
      Runtimes: { runc: { path: 'runc' } },
      DefaultRuntime: 'runc',
      Swarm: this.d.swarm ? await this.d.swarm() : { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: this.d.liveRestore,
      Isolation: '',
      InitBinary: 'docker-init',
      ContainerdCommit: { ID: f.shimVersion, Expected: f.shimVersion },
      RuncCommit: { ID: f.runcVersion, Expected: f.runcVersion },
      InitCommit: { ID: '', Expected: '' },
      SecurityOptions: this.d.securityOptions ?? ['name=cgroupns'].filter(() => f.cgroupVersion === 2),
      Warnings: null,
    };
  }

  async *events(filter: EventFilter, signal: AbortSignal): AsyncGenerator<EventMessage> {
    const queue: EventMessage[] = [];
    let wake: (() => void) | undefined;
    const sub = this.d.events.subscribe((e) => {
      queue.push(e);
      wake?.();
    });
    const onAbort = () => wake?.();
    signal.addEventListener('abort', onAbort);
    try {
      const inRange = (e: EventMessage) =>
        (filter.since === undefined || BigInt(e.timeNano) >= filter.since) && (filter.until === undefined || BigInt(e.timeNano) <= filter.until);
      if (filter.since !== undefined) for (const e of sub.past) if (inRange(e) && matchesEvent(e, filter.filters)) yield e;
      const untilMs = filter.until !== undefined ? Number(filter.until / 1_000_000n) : undefined;
      if (untilMs !== undefined && untilMs <= Date.now()) return;
      const timer = untilMs !== undefined ? setTimeout(() => wake?.(), untilMs - Date.now()) : undefined;
      try {
        while (!signal.aborted && (untilMs === undefined || Date.now() < untilMs)) {
          while (queue.length) {
            const e = queue.shift()!;
            if (inRange(e) && matchesEvent(e, filter.filters)) yield e;
          }
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      } finally {
        if (timer) clearTimeout(timer);
      }
    } finally {
      sub.unsubscribe();
      signal.removeEventListener('abort', onAbort);
    }
  }
}
