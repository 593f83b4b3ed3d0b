/**
 * berthd's settings: flags, then daemon.json (dockerd's rule: a setting may
 * come from one place only).
 */
import { readFile } from 'node:fs/promises';
import { InvalidParameter } from '../errdefs/index.js';
import { isLogLevel, type LogLevel } from '../lib/logger.js';
import type { TransportSettings } from './server/transport/settings.js';

/** The transport's fields (hosts, TLS, socket group, request limits) are declared in TransportSettings. */
export interface DaemonConfig extends TransportSettings {
  dataRoot: string;
  execRoot: string;
  logLevel: LogLevel;
  /** dockerd's --debug: debug log level, and per-request spans kept for GET /debug/spans. */
  debug: boolean;
  /** cgroup parent of every container (cgroupfs path). */
  cgroupParent: string;
  /** Keep containers running when berthd stops (they are always re-attached at start). */
  liveRestore: boolean;
  shimBinary: string;
  /** `default`, `user[:group]` or `uid[:gid]`: run containers' root as an unprivileged host user. */
  usernsRemap?: string;
  /** Give every container an init (tini) unless it says otherwise. */
  init?: boolean;
  /** The init binary; default: `docker-init` on PATH, then Debian's /usr/bin/tini-static. */
  initPath?: string;
  /** Device name of the default `bridge` network (dockerd's --bridge). Unique per daemon on a host. */
  bridge: string;
  /** Its gateway address and prefix, e.g. 172.17.0.1/16 (dockerd's --bip); empty: a free default pool. */
  bip: string;
  /** Registries spoken to over plain HTTP (or HTTPS without verification): hosts, `host:port` or CIDRs. 127.0.0.0/8 always is. */
  insecureRegistries: string[];
  /** Mirrors tried first for docker.io images (`https://mirror.example`). */
  registryMirrors: string[];
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** Per-registry CA certificates, `<dir>/<host[:port]>/*.crt`, as Docker's /etc/docker/certs.d. */
  registryCertsDir: string;
  /** Where `<host[:port]>/hosts.toml` (containerd's registry host files) are read; unset: registryCertsDir. */
  registryHostsDir?: string;
  /** Bytes of one streamed request body (image load and import, a build context, an archive to extract). */
  maxUploadSize: number;
  /** Bytes of one layer as an uncompressed tar (load, pull, import, commit, builds), and of an unpacked build context. */
  maxLayerSize: number;
  /** Where legacy plugins put their sockets (`NAME.sock`, `NAME/NAME.sock`); Docker's /run/docker/plugins. */
  pluginSocketDir: string;
  /** Where `NAME.spec` / `NAME.json` files are looked for, in order. */
  pluginSpecDirs: string[];
  /** Seconds one plugin call may take (Docker: 60, and 120 for create/remove/mount/unmount); also bounds the activation retries. */
  pluginTimeout: number;
  /** Authorization plugins asked about every API request, in order (dockerd's --authorization-plugin). */
  authorizationPlugins: string[];
  /** Builds may `RUN --security=insecure` (a privileged step); BuildKit's security.insecure entitlement. */
  allowInsecureEntitlement: boolean;
  /** Serve the Kubernetes CRI (gRPC) on this unix socket; empty: off. */
  criSocket: string;
  /** The pod sandboxes' infra image (containerd's sandbox_image), pulled when missing. */
  criSandboxImage: string;
}

/** Where `--cri` serves the CRI when no socket is named. */
export const DEFAULT_CRI_SOCKET = '/run/berth/cri.sock';

export const DEFAULT_UNIX_HOST = 'unix:///run/berth.sock';
/** dockerd's default when TLS is on and no host is given. */
export const DEFAULT_TLS_HOST = 'tcp://localhost:2376';

export const DEFAULTS: DaemonConfig = {
  hosts: [DEFAULT_UNIX_HOST],
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  logLevel: 'info',
  debug: false,
  cgroupParent: '/berth',
  liveRestore: false,
  shimBinary: 'containerd-shim-runc-v2',
  group: '',
  apiMaxHeaderSize: 256 << 10,
  apiMaxJsonBody: 8 << 20,
  apiHeadersTimeout: 60,
  apiBodyTimeout: 60,
  apiMaxConnections: 2048,
  bridge: 'berth0',
  bip: '',
  insecureRegistries: [],
  registryMirrors: [],
  maxConcurrentDownloads: 3,
  maxConcurrentUploads: 5,
  registryCertsDir: '/etc/docker/certs.d',
  // larger than any real image's layer; they exist so one request cannot fill the disk unbounded
  maxUploadSize: 64 * 2 ** 30,
  maxLayerSize: 64 * 2 ** 30,
  pluginSocketDir: '/run/docker/plugins',
  pluginSpecDirs: ['/etc/docker/plugins', '/usr/lib/docker/plugins'],
  pluginTimeout: 60,
  authorizationPlugins: [],
  allowInsecureEntitlement: false,
  criSocket: '',
  criSandboxImage: 'registry.k8s.io/pause:3.10',
};

type ValueType = 'string' | 'boolean' | 'number' | 'string[]';

/** daemon.json keys, the config field each one sets, and the JSON type it takes. */
const FILE_KEYS: Record<string, [keyof DaemonConfig, ValueType]> = {
  hosts: ['hosts', 'string[]'],
  'data-root': ['dataRoot', 'string'],
  'exec-root': ['execRoot', 'string'],
  'log-level': ['logLevel', 'string'],
  debug: ['debug', 'boolean'],
  'cgroup-parent': ['cgroupParent', 'string'],
  'live-restore': ['liveRestore', 'boolean'],
  tls: ['tls', 'boolean'],
  tlsverify: ['tlsVerify', 'boolean'],
  tlscacert: ['tlsCaCert', 'string'],
  tlscert: ['tlsCert', 'string'],
  tlskey: ['tlsKey', 'string'],
  group: ['group', 'string'],
  'api-max-header-size': ['apiMaxHeaderSize', 'number'],
  'api-max-json-body': ['apiMaxJsonBody', 'number'],
  'api-headers-timeout': ['apiHeadersTimeout', 'number'],
  'api-body-timeout': ['apiBodyTimeout', 'number'],
  'api-max-connections': ['apiMaxConnections', 'number'],
  'userns-remap': ['usernsRemap', 'string'],
  init: ['init', 'boolean'],
  'init-path': ['initPath', 'string'],
  bridge: ['bridge', 'string'],
  bip: ['bip', 'string'],
  'insecure-registries': ['insecureRegistries', 'string[]'],
  'registry-mirrors': ['registryMirrors', 'string[]'],
  'registry-hosts-dir': ['registryHostsDir', 'string'],
  'max-concurrent-downloads': ['maxConcurrentDownloads', 'number'],
  'max-concurrent-uploads': ['maxConcurrentUploads', 'number'],
  'max-upload-size': ['maxUploadSize', 'number'],
  'max-layer-size': ['maxLayerSize', 'number'],
  'plugin-socket-dir': ['pluginSocketDir', 'string'],
  'plugin-spec-dirs': ['pluginSpecDirs', 'string[]'],
  'plugin-timeout': ['pluginTimeout', 'number'],
  'authorization-plugins': ['authorizationPlugins', 'string[]'],
  'allow-insecure-entitlement': ['allowInsecureEntitlement', 'boolean'],
  'cri-socket': ['criSocket', 'string'],
  'cri-sandbox-image': ['criSandboxImage', 'string'],
};

function hasType(v: unknown, t: ValueType): boolean {
  if (t === 'string[]') return Array.isArray(v) && v.every((s) => typeof s === 'string');
  return typeof v === t;
}

export async function loadConfig(flags: Partial<DaemonConfig>, configFile: string | undefined, fileRequired: boolean): Promise<DaemonConfig> {
  let file: Record<string, unknown> = {};
  if (configFile) {
    try {
      file = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || fileRequired) {
        throw new InvalidParameter('daemon.config_file', `unable to configure the daemon with file ${configFile}: ${(err as Error).message}`);
      }
    }
  }
  const fromFile: Partial<DaemonConfig> = {};
  const conflicts: string[] = [];
  for (const [key, value] of Object.entries(file)) {
    const known = FILE_KEYS[key];
    if (!known) continue; // dockerd keys berth does not use yet
    const [field, type] = known;
    if (!hasType(value, type)) {
      throw new InvalidParameter('daemon.config_value', `unable to configure the daemon with file ${configFile}: "${key}" must be a ${type === 'string[]' ? 'list of strings' : type}`);
    }
    if (flags[field] !== undefined) conflicts.push(`${key}: (from flag: ${String(flags[field])}, from file: ${String(value)})`);
    (fromFile as Record<string, unknown>)[field] = value;
  }
  if (conflicts.length) {
    throw new InvalidParameter('daemon.config_conflict', `the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }
  const given = { ...fromFile, ...stripUndefined(flags) };
  const cfg: DaemonConfig = { ...DEFAULTS, ...given };
  // dockerd: with --tls (or --tlsverify) and no host, listen on tcp://localhost:2376 instead of the socket
  const hosts = (given.hosts ?? []).map((h) => h.trim()).filter(Boolean);
  cfg.hosts = hosts.length ? hosts : [cfg.tls || cfg.tlsVerify ? DEFAULT_TLS_HOST : DEFAULT_UNIX_HOST];
  // dockerd: --debug means the debug log level unless one was given
  if (cfg.debug && given.logLevel === undefined) cfg.logLevel = 'debug';
  if (!isLogLevel(cfg.logLevel)) throw new InvalidParameter('daemon.log_level', `invalid log level: ${cfg.logLevel}`);
  for (const k of ['apiMaxHeaderSize', 'apiMaxJsonBody', 'apiHeadersTimeout', 'apiBodyTimeout', 'apiMaxConnections', 'maxConcurrentDownloads', 'maxConcurrentUploads', 'maxUploadSize', 'maxLayerSize', 'pluginTimeout'] as const) {
    if (!Number.isFinite(cfg[k]) || cfg[k] <= 0) throw new InvalidParameter('daemon.config_value', `invalid value for ${k}: ${cfg[k]} (must be a positive number)`);
  }
  return cfg;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
