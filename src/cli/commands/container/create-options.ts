/**
 * The flags `run` and `create` share, and their translation into the
 * create request body (docker/cli opts.go → container.Config + HostConfig).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ContainerCreateRequest, HostConfig, PortBinding, RestartPolicy, Ulimit } from '../../../api/types/index.js';
import { InvalidParameter } from '../../../errdefs/index.js';
import { collect } from '../../context.js';

export interface CreateFlags {
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  domainname?: string;
  label: string[];
  restart?: string;
  network?: string;
  networkAlias: string[];
  ip?: string;
  stopSignal?: string;
  stopTimeout?: string;
  readOnly?: boolean;
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  securityOpt: string[];
  ulimit: string[];
  init?: boolean;
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  pidsLimit?: string;
  publish: string[];
  publishAll?: boolean;
  expose: string[];
  volume: string[];
  mount: string[];
  tmpfs: string[];
  volumesFrom: string[];
  platform?: string;
  pull?: string;
  shmSize?: string;
  groupAdd: string[];
  sysctl: string[];
  dns: string[];
  addHost: string[];
  attach: string[];
  device: string[];
  deviceCgroupRule: string[];
  userns?: string;
  cgroupns?: string;
  oomKillDisable?: boolean;
  oomScoreAdj?: string;
}

export function addCreateOptions(cmd: Command): Command {
  return cmd
    .helpOption('--help', 'Print usage')
    .option('-a, --attach <stream>', 'Attach to STDIN, STDOUT or STDERR', collect, [])
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
    .option('--name <string>', 'Assign a name to the container')
    .option('-e, --env <list>', 'Set environment variables', collect, [])
    .option('--env-file <list>', 'Read in a file of environment variables', collect, [])
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-h, --hostname <string>', 'Container host name')
    .option('--domainname <string>', 'Container NIS domain name')
    .option('-l, --label <list>', 'Set meta data on a container', collect, [])
    .option('--restart <string>', 'Restart policy to apply when a container exits', 'no')
    .option('--network <network>', 'Connect a container to a network')
    .option('--network-alias <list>', 'Add network-scoped alias for the container', collect, [])
    .option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--stop-signal <string>', 'Signal to stop the container')
    .option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--cap-add <list>', 'Add Linux capabilities', collect, [])
    .option('--cap-drop <list>', 'Drop Linux capabilities', collect, [])
    .option('--privileged', 'Give extended privileges to this container')
    .option('--security-opt <list>', 'Security Options', collect, [])
    .option('--ulimit <ulimit>', 'Ulimit options', collect, [])
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('-p, --publish <list>', "Publish a container's port(s) to the host", collect, [])
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--expose <list>', 'Expose a port or a range of ports', collect, [])
    .option('-v, --volume <list>', 'Bind mount a volume', collect, [])
    .option('--mount <mount>', 'Attach a filesystem mount to the container', collect, [])
    .option('--tmpfs <list>', 'Mount a tmpfs directory', collect, [])
    .option('--volumes-from <list>', 'Mount volumes from the specified container(s)', collect, [])
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('--pull <string>', 'Pull image before running ("always", "missing", "never")', 'missing')
    .option('--shm-size <bytes>', 'Size of /dev/shm')
    .option('--group-add <list>', 'Add additional groups to join', collect, [])
    .option('--sysctl <map>', 'Sysctl options', collect, [])
    .option('--dns <list>', 'Set custom DNS servers', collect, [])
    .option('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)', collect, [])
    .option('--device <list>', 'Add a host device to the container', collect, [])
    .option('--device-cgroup-rule <list>', 'Add a rule to the cgroup allowed devices list', collect, [])
    .option('--userns <string>', 'User namespace to use')
    .option('--cgroupns <string>', 'Cgroup namespace to use (host|private)')
    .option('--oom-kill-disable', 'Disable OOM Killer')
    .option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)");
}

/** docker's RAMInBytes: 64m, 1g, 512k, 100 (bytes); binary multiples. */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(s.trim());
  if (!m) throw new InvalidParameter('cli.invalid_size', `invalid size: '${s}'`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase() as '' | 'k'];
  return Math.floor(Number(m[1]) * mult);
}

function parseRestart(s: string): RestartPolicy {
  const [name = '', count] = s.split(':');
  if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(name)) {
    throw new InvalidParameter('cli.invalid_restart', `invalid restart policy format: ${s}`);
  }
  if (count !== undefined && name !== 'on-failure') throw new InvalidParameter('cli.invalid_restart', `invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: count ? Number(count) : 0 };
}

/**
 * docker/cli parseSecurityOpts + parseSystemPaths: `seccomp=<file>` sends the
 * file's (compacted) JSON; `systempaths=unconfined` clears the masked and
 * read-only paths and is not sent.
 */
export function parseSecurityOpts(opts: string[]): { securityOpt: string[]; unconfinedPaths: boolean } {
  const out: string[] = [];
  let unconfinedPaths = false;
  for (const opt of opts) {
    if (opt === 'systempaths=unconfined') {
      unconfinedPaths = true;
      continue;
    }
    let sep = opt.indexOf('=');
    if (sep === -1 && opt !== 'no-new-privileges') sep = opt.indexOf(':');
    const key = sep === -1 ? opt : opt.slice(0, sep);
    const value = sep === -1 ? '' : opt.slice(sep + 1);
    if (!value && key !== 'no-new-privileges') throw new InvalidParameter('cli.invalid_security_opt', `invalid --security-opt: "${opt}"`);
    if (key === 'seccomp' && value !== 'unconfined' && value !== 'builtin') {
      let text: string;
      try {
        text = readFileSync(value, 'utf8');
      } catch (err) {
        throw new InvalidParameter('cli.invalid_security_opt', `opening seccomp profile (${value}) failed: ${(err as Error).message}`);
      }
      try {
        out.push(`seccomp=${JSON.stringify(JSON.parse(text))}`);
      } catch (err) {
        throw new InvalidParameter('cli.invalid_security_opt', `compacting json for seccomp profile (${value}) failed: ${(err as Error).message}`);
      }
      continue;
    }
    out.push(opt);
  }
  return { securityOpt: out, unconfinedPaths };
}

/** `/dev/x[:/dev/y][:rwm]` (docker/cli parseLinuxDevice). */
export function parseDevice(spec: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = spec.split(':');
  if (parts.length > 3 || !parts[0]) throw new InvalidParameter('cli.invalid_device', `invalid device specification: ${spec}`);
  const validMode = (m: string) => /^[rwm]{1,3}$/.test(m) && new Set(m).size === m.length;
  let dst = '';
  let perms = 'rwm';
  if (parts.length === 3) {
    dst = parts[1]!;
    perms = parts[2]!;
  } else if (parts.length === 2) {
    if (validMode(parts[1]!)) perms = parts[1]!;
    else dst = parts[1]!;
  }
  if (!validMode(perms)) throw new InvalidParameter('cli.invalid_device', `invalid device mode: ${perms}`);
  return { PathOnHost: parts[0]!, PathInContainer: dst || parts[0]!, CgroupPermissions: perms };
}

function parseUlimit(s: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(s);
  if (!m) throw new InvalidParameter('cli.invalid_ulimit', `invalid ulimit argument: ${s}`);
  const soft = Number(m[2]);
  return { Name: m[1]!, Soft: soft, Hard: m[3] !== undefined ? Number(m[3]) : soft };
}

/** `-e K=V` as given; `-e K` takes K from this environment (dropped when unset), like docker. */
function envEntries(env: string[], envFiles: string[]): string[] {
  const out: string[] = [];
  const add = (e: string) => {
    if (e.includes('=')) out.push(e);
    else if (process.env[e] !== undefined) out.push(`${e}=${process.env[e]}`);
    else out.push(e);
  };
  for (const f of envFiles) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const l = line.trim();
      if (l && !l.startsWith('#')) add(l);
    }
  }
  env.forEach(add);
  return out;
}

/** `[ip:][hostPort:]containerPort[/proto]` → exposed port key and binding. */
export function parsePublish(spec: string): { key: string; binding: PortBinding } {
  const [portPart, proto = 'tcp'] = spec.split('/') as [string, string?];
  const parts = portPart.split(':');
  let ip = '';
  let hostPort = '';
  let containerPort: string;
  if (parts.length === 1) containerPort = parts[0]!;
  else if (parts.length === 2) [hostPort, containerPort] = parts as [string, string];
  else {
    containerPort = parts.pop()!;
    hostPort = parts.pop()!;
    ip = parts.join(':').replace(/^\[|\]$/g, '');
  }
  if (!/^\d+(-\d+)?$/.test(containerPort) || (hostPort && !/^\d+(-\d+)?$/.test(hostPort))) {
    throw new InvalidParameter('cli.invalid_publish', `invalid port specification: "${spec}"`);
  }
  return { key: `${containerPort}/${proto}`, binding: { HostIp: ip, HostPort: hostPort } };
}

function keyValue(list: string[]): Record<string, string> {
  return Object.fromEntries(list.map((l) => {
    const i = l.indexOf('=');
    return i === -1 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)];
  }));
}

export function createRequest(f: CreateFlags, image: string, args: string[], attachDefault: boolean, consoleSize: [number, number]): ContainerCreateRequest {
  const attach = new Set(f.attach.map((s) => s.toLowerCase()));
  const attachStdout = attach.size ? attach.has('stdout') : attachDefault;
  const attachStderr = attach.size ? attach.has('stderr') : attachDefault;
  const attachStdin = attach.size ? attach.has('stdin') : attachDefault && !!f.interactive;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const p of f.publish) {
    const { key, binding } = parsePublish(p);
    exposed[key] = {};
    (bindings[key] ??= []).push(binding);
  }
  for (const e of f.expose) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  const security = parseSecurityOpts(f.securityOpt);
  const hc: HostConfig = {
    Binds: f.volume.length ? f.volume : null,
    NetworkMode: f.network ?? 'default',
    PortBindings: bindings,
    RestartPolicy: parseRestart(f.restart ?? 'no'),
    AutoRemove: !!f.rm,
    ConsoleSize: f.tty ? consoleSize : [0, 0],
    CapAdd: f.capAdd.length ? f.capAdd : null,
    CapDrop: f.capDrop.length ? f.capDrop : null,
    Privileged: !!f.privileged,
    PublishAllPorts: !!f.publishAll,
    ReadonlyRootfs: !!f.readOnly,
    SecurityOpt: security.securityOpt.length ? security.securityOpt : null,
    Ulimits: f.ulimit.length ? f.ulimit.map(parseUlimit) : null,
    GroupAdd: f.groupAdd.length ? f.groupAdd : null,
    Sysctls: f.sysctl.length ? keyValue(f.sysctl) : null,
    Dns: f.dns,
    ExtraHosts: f.addHost.length ? f.addHost : null,
    VolumesFrom: f.volumesFrom.length ? f.volumesFrom : null,
  };
  if (f.init) hc.Init = true;
  if (security.unconfinedPaths) {
    hc.MaskedPaths = [];
    hc.ReadonlyPaths = [];
  }
  if (f.device.length) hc.Devices = f.device.map(parseDevice);
  if (f.deviceCgroupRule.length) hc.DeviceCgroupRules = f.deviceCgroupRule;
  if (f.userns) hc.UsernsMode = f.userns;
  if (f.cgroupns) hc.CgroupnsMode = f.cgroupns;
  if (f.oomKillDisable) hc.OomKillDisable = true;
  if (f.oomScoreAdj) hc.OomScoreAdj = Number(f.oomScoreAdj);
  if (f.memory) hc.Memory = parseBytes(f.memory);
  if (f.memorySwap) hc.MemorySwap = f.memorySwap === '-1' ? -1 : parseBytes(f.memorySwap);
  if (f.cpus) hc.NanoCpus = Math.round(Number(f.cpus) * 1e9);
  if (f.cpuShares) hc.CpuShares = Number(f.cpuShares);
  if (f.pidsLimit) hc.PidsLimit = Number(f.pidsLimit);
  if (f.shmSize) hc.ShmSize = parseBytes(f.shmSize);
  if (f.tmpfs.length) {
    hc.Tmpfs = Object.fromEntries(f.tmpfs.map((t) => {
      const i = t.indexOf(':');
      return i === -1 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)];
    }));
  }
  if (f.mount.length) hc.Mounts = f.mount.map(parseMountFlag);
  const req: ContainerCreateRequest = {
    Hostname: f.hostname ?? '',
    Domainname: f.domainname ?? '',
    User: f.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    Tty: !!f.tty,
    OpenStdin: !!f.interactive,
    StdinOnce: !!f.interactive && attachStdin,
    Env: envEntries(f.env, f.envFile),
    Cmd: args.length ? args : null,
    Image: image,
    Volumes: {},
    WorkingDir: f.workdir ?? '',
    Entrypoint: f.entrypoint !== undefined ? [f.entrypoint] : null,
    OnBuild: null,
    Labels: keyValue(f.label),
    HostConfig: hc,
    NetworkingConfig: { EndpointsConfig: {} },
  };
  if (f.networkAlias.length || f.ip) {
    req.NetworkingConfig = { EndpointsConfig: { [f.network ?? 'default']: { Aliases: f.networkAlias, ...(f.ip ? { IPAMConfig: { IPv4Address: f.ip } } : {}) } } };
  }
  if (Object.keys(exposed).length) req.ExposedPorts = exposed;
  if (f.stopSignal) req.StopSignal = f.stopSignal;
  if (f.stopTimeout !== undefined) req.StopTimeout = Number(f.stopTimeout);
  return req;
}

/** `--mount type=bind,source=/a,target=/b,readonly` */
function parseMountFlag(spec: string): NonNullable<HostConfig['Mounts']>[number] {
  const kv: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const i = part.indexOf('=');
    kv[(i === -1 ? part : part.slice(0, i)).trim().toLowerCase()] = i === -1 ? 'true' : part.slice(i + 1);
  }
  const target = kv.target ?? kv.destination ?? kv.dst;
  if (!target) throw new InvalidParameter('cli.invalid_mount', `invalid argument "${spec}" for "--mount" flag: target is required`);
  const type = (kv.type ?? 'volume') as 'bind' | 'volume' | 'tmpfs';
  const ro = ['true', '1', ''].includes(kv.readonly ?? kv.ro ?? 'false');
  const m: NonNullable<HostConfig['Mounts']>[number] = { Type: type, Target: target, ReadOnly: ro && (kv.readonly !== undefined || kv.ro !== undefined) };
  const source = kv.source ?? kv.src;
  if (source) m.Source = source;
  return m;
}
