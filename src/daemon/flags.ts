/**
 * berthd's command line, as data: one table read by a small parser for the
 * common case (flags and values only) and, for everything else (`--help`,
 * `--version`, an unknown flag, a bad value, combined short flags), by
 * commander built from the same table, so help and errors read as they
 * always did. Commander is 120 KB of source that an idle daemon would
 * otherwise keep in memory (issue 18).
 *
 *   const parsed = parseFlagsFast(argv) ?? (await parseWithCommander(argv));
 */
import { DEFAULT_CRI_SOCKET, DEFAULTS } from './config.js';

export const DAEMON_VERSION = '27.0.0-berth';
export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';

/** Go's strconv.ParseBool, for `--tls=false` as dockerd takes it; a bare `--tls` is true. */
function parseBool(v: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new Error(`invalid boolean value "${v}"`);
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`must be a positive number: ${v}`);
  return n;
}

export interface FlagSpec {
  /** commander's syntax: `-s, --long`, `--long <value>` (required) or `--long [value]` (optional). */
  flags: string;
  description: string;
  /** Turns the text into the value; throws with the reason when it is invalid. */
  parse?: (v: string, prev: never) => unknown;
  default?: string;
}

export const FLAG_SPECS: FlagSpec[] = [
  { flags: '-H, --host <host>', description: 'socket(s) to listen on, repeatable: unix:///path or tcp://addr:port', parse: collect },
  { flags: '--tls [bool]', description: 'use TLS; implied by --tlsverify (--tls=false allows plain TCP, insecure)', parse: parseBool },
  { flags: '--tlsverify [bool]', description: 'use TLS and require client certificates signed by --tlscacert', parse: parseBool },
  { flags: '--tlscacert <file>', description: 'trust client certificates signed only by this CA (default $DOCKER_CERT_PATH/ca.pem, else ~/.docker/ca.pem)' },
  { flags: '--tlscert <file>', description: 'server TLS certificate (default $DOCKER_CERT_PATH/cert.pem)' },
  { flags: '--tlskey <file>', description: 'server TLS key (default $DOCKER_CERT_PATH/key.pem)' },
  { flags: '-G, --group <group>', description: 'group for the unix socket (created if missing; default: berth, else docker, else root)' },
  { flags: '--data-root <dir>', description: `root of persistent state (default ${DEFAULTS.dataRoot})` },
  { flags: '--exec-root <dir>', description: `root of runtime state (default ${DEFAULTS.execRoot})` },
  { flags: '-D, --debug', description: 'debug mode: debug log level, per-request spans at GET /debug/spans' },
  { flags: '-l, --log-level <level>', description: 'debug, info, warn or error' },
  { flags: '--config-file <file>', description: 'daemon.json-style configuration file', default: DEFAULT_CONFIG_FILE },
  { flags: '--cgroup-parent <path>', description: `cgroup parent of containers (default ${DEFAULTS.cgroupParent})` },
  { flags: '--live-restore', description: 'keep containers running when the daemon stops' },
  { flags: '--userns-remap <user:group>', description: 'user/group setting for user namespaces (default, user[:group], uid[:gid])' },
  { flags: '--init', description: 'run an init in the containers to forward signals and reap processes' },
  { flags: '--init-path <path>', description: 'path to the docker-init binary' },
  { flags: '-b, --bridge <name>', description: `device name of the default bridge network (default ${DEFAULTS.bridge})` },
  { flags: '--bip <cidr>', description: 'address and prefix of the default bridge, e.g. 172.17.0.1/16' },
  { flags: '--api-max-header-size <bytes>', description: `largest request head accepted (default ${DEFAULTS.apiMaxHeaderSize})`, parse: positive },
  { flags: '--api-max-json-body <bytes>', description: `largest JSON request body accepted (default ${DEFAULTS.apiMaxJsonBody})`, parse: positive },
  { flags: '--api-headers-timeout <seconds>', description: `time a client has to send its request headers (default ${DEFAULTS.apiHeadersTimeout})`, parse: positive },
  { flags: '--api-body-timeout <seconds>', description: `time a client has to send a JSON request body (default ${DEFAULTS.apiBodyTimeout})`, parse: positive },
  { flags: '--api-max-connections <n>', description: `open API connections per listener (default ${DEFAULTS.apiMaxConnections})`, parse: positive },
  { flags: '--insecure-registry <host>', description: 'registry spoken to over plain HTTP (repeatable; host[:port] or CIDR)', parse: collect },
  { flags: '--registry-mirror <url>', description: 'mirror tried first for docker.io images (repeatable)', parse: collect },
  { flags: '--max-concurrent-downloads <n>', description: `layers pulled at once (default ${DEFAULTS.maxConcurrentDownloads})`, parse: positive },
  { flags: '--max-concurrent-uploads <n>', description: `layers pushed at once (default ${DEFAULTS.maxConcurrentUploads})`, parse: positive },
  { flags: '--registry-certs-dir <dir>', description: `CA certificates per registry, <dir>/<host:port>/ca.crt (default ${DEFAULTS.registryCertsDir})` },
  { flags: '--registry-hosts-dir <dir>', description: 'containerd-style <dir>/<host:port>/hosts.toml mirror files (default: the certs dir)' },
  { flags: '--max-upload-size <bytes>', description: `largest streamed request body: image load/import, build context, archive (default ${DEFAULTS.maxUploadSize})`, parse: positive },
  { flags: '--max-layer-size <bytes>', description: `largest layer as an uncompressed tar, and unpacked build context (default ${DEFAULTS.maxLayerSize})`, parse: positive },
  { flags: '--plugin-socket-dir <dir>', description: `directory of legacy plugin sockets (default ${DEFAULTS.pluginSocketDir})` },
  { flags: '--plugin-spec-dir <dir>', description: `directory of plugin .spec/.json files, repeatable (default ${DEFAULTS.pluginSpecDirs.join(', ')})`, parse: collect },
  { flags: '--plugin-timeout <seconds>', description: `time one plugin call may take (default ${DEFAULTS.pluginTimeout})`, parse: positive },
  { flags: '--authorization-plugin <name>', description: 'authorization plugin asked about every API request (repeatable)', parse: collect },
  { flags: '--cri', description: `serve the Kubernetes CRI on ${DEFAULT_CRI_SOCKET} (unless --cri-socket names another)` },
  { flags: '--cri-socket <path>', description: 'serve the Kubernetes CRI (gRPC) on this unix socket' },
  { flags: '--cri-sandbox-image <ref>', description: `infra image of pod sandboxes (default ${DEFAULTS.criSandboxImage})` },
];

export interface Flags {
  host?: string[]; tls?: boolean; tlsverify?: boolean; tlscacert?: string; tlscert?: string; tlskey?: string; group?: string;
  dataRoot?: string; execRoot?: string; logLevel?: string; debug?: boolean; configFile: string; cgroupParent?: string; liveRestore?: boolean;
  usernsRemap?: string; init?: boolean; initPath?: string; bridge?: string; bip?: string;
  insecureRegistry?: string[]; registryMirror?: string[]; maxConcurrentDownloads?: number; maxConcurrentUploads?: number; registryCertsDir?: string; registryHostsDir?: string;
  apiMaxHeaderSize?: number; apiMaxJsonBody?: number; apiHeadersTimeout?: number; apiBodyTimeout?: number; apiMaxConnections?: number;
  maxUploadSize?: number; maxLayerSize?: number;
  pluginSocketDir?: string; pluginSpecDir?: string[]; pluginTimeout?: number; authorizationPlugin?: string[];
  cri?: boolean; criSocket?: string; criSandboxImage?: string;
}

export interface ParsedFlags {
  flags: Flags;
  /** `--config-file` was given (a missing file is then an error, not the default's silence). */
  configFileGiven: boolean;
}

interface Shape {
  spec: FlagSpec;
  /** The attribute name, as commander derives it: `--log-level` -> logLevel. */
  key: string;
  value: 'none' | 'required' | 'optional';
}

function shapeOf(spec: FlagSpec): { names: string[]; shape: Shape } {
  const [names, arg] = [spec.flags.split(/[ ,]+/).filter((w) => w.startsWith('-')), /[<[]/.exec(spec.flags)?.[0]];
  const long = names.find((n) => n.startsWith('--'))!;
  const key = long.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return { names, shape: { spec, key, value: arg === '<' ? 'required' : arg === '[' ? 'optional' : 'none' } };
}

const byName = new Map<string, Shape>(FLAG_SPECS.flatMap((spec) => {
  const { names, shape } = shapeOf(spec);
  return names.map((n) => [n, shape] as const);
}));

/**
 * The flags of a plain command line (each flag spelled out alone, with its
 * value next or after `=`), or undefined for anything commander has to
 * answer: help, version, unknown or combined flags, arguments, a missing or
 * invalid value, a value that looks like a flag.
 */
export function parseFlagsFast(argv: string[]): ParsedFlags | undefined {
  const out: Record<string, unknown> = { configFile: DEFAULT_CONFIG_FILE };
  let configFileGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const shape = byName.get(eq > 0 ? arg.slice(0, eq) : arg);
    if (!shape) return undefined;
    let text: string | undefined;
    if (eq > 0) {
      if (shape.value === 'none') return undefined;
      text = arg.slice(eq + 1);
    } else if (shape.value !== 'none') {
      const next = argv[i + 1];
      // commander takes a required value whatever it looks like; that rare line is left to it
      if (next !== undefined && !next.startsWith('-')) {
        text = next;
        i++;
      } else if (shape.value === 'required') return undefined;
    }
    try {
      out[shape.key] = text === undefined ? true : shape.spec.parse ? shape.spec.parse(text, out[shape.key] as never) : text;
    } catch {
      return undefined;
    }
    if (shape.key === 'configFile') configFileGiven = true;
  }
  return { flags: out as unknown as Flags, configFileGiven };
}

/** The same table through commander: prints help, the version or the error and exits as commander does. */
export async function parseWithCommander(argv: string[]): Promise<ParsedFlags> {
  const { Command, InvalidArgumentError } = await import('commander');
  const program = new Command('berthd').description('berth daemon: a Docker Engine API server');
  for (const spec of FLAG_SPECS) {
    const parse = spec.parse;
    if (!parse) {
      program.option(spec.flags, spec.description, spec.default);
      continue;
    }
    program.option(spec.flags, spec.description, (v: string, prev: unknown) => {
      try {
        return parse(v, prev as never);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    });
  }
  program.version(DAEMON_VERSION, '-v, --version');
  program.parse(argv, { from: 'user' });
  return { flags: program.opts<Flags>(), configFileGiven: program.getOptionValueSource('configFile') === 'cli' };
}
