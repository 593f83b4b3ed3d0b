/** berthd: the daemon. Serves the Docker Engine API; runs containers through shims and runc. */
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, DEFAULT_CRI_SOCKET, DEFAULTS, type DaemonConfig } from '../daemon/config.js';
import { startDaemon } from '../daemon/wire.js';
import { Logger, type LogLevel } from '../lib/logger.js';

/** Longer than any container's stop timeout should take (default 10 s each, in parallel). */
const SHUTDOWN_DEADLINE_MS = 120_000;

/** Go's strconv.ParseBool, for `--tls=false` as dockerd takes it; a bare `--tls` is true. */
function parseBool(v: string | boolean): boolean {
  if (typeof v === 'boolean') return v;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new InvalidArgumentError(`invalid boolean value "${v}"`);
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`must be a positive number: ${v}`);
  return n;
}

const program = new Command('berthd')
  .description('berth daemon: a Docker Engine API server')
  .option('-H, --host <host>', 'socket(s) to listen on, repeatable: unix:///path or tcp://addr:port', collect)
  .option('--tls [bool]', 'use TLS; implied by --tlsverify (--tls=false allows plain TCP, insecure)', parseBool)
  .option('--tlsverify [bool]', 'use TLS and require client certificates signed by --tlscacert', parseBool)
  .option('--tlscacert <file>', 'trust client certificates signed only by this CA (default $DOCKER_CERT_PATH/ca.pem, else ~/.docker/ca.pem)')
  .option('--tlscert <file>', 'server TLS certificate (default $DOCKER_CERT_PATH/cert.pem)')
  .option('--tlskey <file>', 'server TLS key (default $DOCKER_CERT_PATH/key.pem)')
  .option('-G, --group <group>', 'group for the unix socket (created if missing; default: berth, else docker, else root)')
  .option('--data-root <dir>', `root of persistent state (default ${DEFAULTS.dataRoot})`)
  .option('--exec-root <dir>', `root of runtime state (default ${DEFAULTS.execRoot})`)
  .option('-D, --debug', 'debug mode: debug log level, per-request spans at GET /debug/spans')
  .option('-l, --log-level <level>', 'debug, info, warn or error')
  .option('--config-file <file>', 'daemon.json-style configuration file', '/etc/berth/daemon.json')
  .option('--cgroup-parent <path>', `cgroup parent of containers (default ${DEFAULTS.cgroupParent})`)
  .option('--live-restore', 'keep containers running when the daemon stops')
  .option('--userns-remap <user:group>', 'user/group setting for user namespaces (default, user[:group], uid[:gid])')
  .option('--init', 'run an init in the containers to forward signals and reap processes')
  .option('--init-path <path>', 'path to the docker-init binary')
  .option('-b, --bridge <name>', `device name of the default bridge network (default ${DEFAULTS.bridge})`)
  .option('--bip <cidr>', 'address and prefix of the default bridge, e.g. 172.17.0.1/16')
  .option('--api-max-header-size <bytes>', `largest request head accepted (default ${DEFAULTS.apiMaxHeaderSize})`, positive)
  .option('--api-max-json-body <bytes>', `largest JSON request body accepted (default ${DEFAULTS.apiMaxJsonBody})`, positive)
  .option('--api-headers-timeout <seconds>', `time a client has to send its request headers (default ${DEFAULTS.apiHeadersTimeout})`, positive)
  .option('--api-body-timeout <seconds>', `time a client has to send a JSON request body (default ${DEFAULTS.apiBodyTimeout})`, positive)
  .option('--api-max-connections <n>', `open API connections per listener (default ${DEFAULTS.apiMaxConnections})`, positive)
  .option('--insecure-registry <host>', 'registry spoken to over plain HTTP (repeatable; host[:port] or CIDR)', collect)
  .option('--registry-mirror <url>', 'mirror tried first for docker.io images (repeatable)', collect)
  .option('--max-concurrent-downloads <n>', `layers pulled at once (default ${DEFAULTS.maxConcurrentDownloads})`, positive)
  .option('--max-concurrent-uploads <n>', `layers pushed at once (default ${DEFAULTS.maxConcurrentUploads})`, positive)
  .option('--registry-certs-dir <dir>', `CA certificates per registry, <dir>/<host:port>/ca.crt (default ${DEFAULTS.registryCertsDir})`)
  .option('--registry-hosts-dir <dir>', 'containerd-style <dir>/<host:port>/hosts.toml mirror files (default: the certs dir)')
  .option('--max-upload-size <bytes>', `largest streamed request body: image load/import, build context, archive (default ${DEFAULTS.maxUploadSize})`, positive)
  .option('--max-layer-size <bytes>', `largest layer as an uncompressed tar, and unpacked build context (default ${DEFAULTS.maxLayerSize})`, positive)
  .option('--plugin-socket-dir <dir>', `directory of legacy plugin sockets (default ${DEFAULTS.pluginSocketDir})`)
  .option('--plugin-spec-dir <dir>', `directory of plugin .spec/.json files, repeatable (default ${DEFAULTS.pluginSpecDirs.join(', ')})`, collect)
  .option('--plugin-timeout <seconds>', `time one plugin call may take (default ${DEFAULTS.pluginTimeout})`, positive)
  .option('--authorization-plugin <name>', 'authorization plugin asked about every API request (repeatable)', collect)
  .option('--cri', `serve the Kubernetes CRI on ${DEFAULT_CRI_SOCKET} (unless --cri-socket names another)`)
  .option('--cri-socket <path>', 'serve the Kubernetes CRI (gRPC) on this unix socket')
  .option('--cri-sandbox-image <ref>', `infra image of pod sandboxes (default ${DEFAULTS.criSandboxImage})`)
  .version('27.0.0-berth', '-v, --version');

program.parse();
interface Flags {
  host?: string[]; tls?: boolean; tlsverify?: boolean; tlscacert?: string; tlscert?: string; tlskey?: string; group?: string;
  dataRoot?: string; execRoot?: string; logLevel?: string; debug?: boolean; configFile: string; cgroupParent?: string; liveRestore?: boolean;
  usernsRemap?: string; init?: boolean; initPath?: string; bridge?: string; bip?: string;
  insecureRegistry?: string[]; registryMirror?: string[]; maxConcurrentDownloads?: number; maxConcurrentUploads?: number; registryCertsDir?: string; registryHostsDir?: string;
  apiMaxHeaderSize?: number; apiMaxJsonBody?: number; apiHeadersTimeout?: number; apiBodyTimeout?: number; apiMaxConnections?: number;
  maxUploadSize?: number; maxLayerSize?: number;
  pluginSocketDir?: string; pluginSpecDir?: string[]; pluginTimeout?: number; authorizationPlugin?: string[];
  cri?: boolean; criSocket?: string; criSandboxImage?: string;
}
const o = program.opts<Flags>();
const fileGiven = program.getOptionValueSource('configFile') === 'cli';

async function main(): Promise<void> {
  const flags: Partial<DaemonConfig> = {
    hosts: o.host,
    dataRoot: o.dataRoot,
    execRoot: o.execRoot,
    logLevel: o.logLevel as LogLevel | undefined,
    debug: o.debug,
    cgroupParent: o.cgroupParent,
    liveRestore: o.liveRestore,
    usernsRemap: o.usernsRemap,
    init: o.init,
    initPath: o.initPath,
    bridge: o.bridge,
    bip: o.bip,
    insecureRegistries: o.insecureRegistry,
    registryMirrors: o.registryMirror,
    maxConcurrentDownloads: o.maxConcurrentDownloads,
    maxConcurrentUploads: o.maxConcurrentUploads,
    registryCertsDir: o.registryCertsDir,
    registryHostsDir: o.registryHostsDir,
    tls: o.tls,
    tlsVerify: o.tlsverify,
    tlsCaCert: o.tlscacert,
    tlsCert: o.tlscert,
    tlsKey: o.tlskey,
    group: o.group,
    apiMaxHeaderSize: o.apiMaxHeaderSize,
    apiMaxJsonBody: o.apiMaxJsonBody,
    apiHeadersTimeout: o.apiHeadersTimeout,
    apiBodyTimeout: o.apiBodyTimeout,
    apiMaxConnections: o.apiMaxConnections,
    maxUploadSize: o.maxUploadSize,
    maxLayerSize: o.maxLayerSize,
    pluginSocketDir: o.pluginSocketDir,
    pluginSpecDirs: o.pluginSpecDir,
    pluginTimeout: o.pluginTimeout,
    authorizationPlugins: o.authorizationPlugin,
    criSocket: o.criSocket ?? (o.cri ? DEFAULT_CRI_SOCKET : undefined),
    criSandboxImage: o.criSandboxImage,
  };
  const cfg = await loadConfig(flags, o.configFile, fileGiven);
  const log = new Logger(cfg.logLevel);
  const daemon = await startDaemon(cfg, log);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) {
      // a second signal does not wait for containers to stop (dockerd quits on the third)
      log.warn('forced exit', { signal: sig });
      process.exit(1);
    }
    stopping = true;
    log.info('shutting down', { signal: sig });
    // never hang on the way out: stop timeouts are seconds, this is the backstop
    setTimeout(() => {
      log.error('shutdown did not finish in time, exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    daemon.shutdown().then(() => process.exit(0), (err: Error) => {
      log.error('shutdown failed', { error: err.message });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`berthd: ${err.message}\n`);
  process.exit(1);
});
