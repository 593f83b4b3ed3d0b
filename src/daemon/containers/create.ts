/**
 * Turns a create request and its image into a container record (pure):
 * Docker's merge of user config over image config, defaults, validation.
 */
import type { ContainerConfig, ContainerCreateRequest, HostConfig } from '../../api/types/index.js';
import { rotationOf } from '../logs/log-options.js';
import { InvalidParameter } from '../../errdefs/index.js';
import type { Digest } from '../../oci/digest.js';
import type { ContainerDefaults, HealthConfig } from '../../oci/image.js';
import { initialState, type ContainerRecord } from './record.js';
import { validateIsolation } from './security/security-opts.js';
import { DEFAULT_SHM_SIZE } from './spec.js';

const RESTART_POLICIES = ['', 'no', 'always', 'on-failure', 'unless-stopped'];
const MIN_MEMORY = 6 * 1024 * 1024;

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i === -1 ? e : e.slice(0, i);
}

/** moby's merge(userConf, imageConf). */
export function mergeConfig(user: ContainerCreateRequest, image: ContainerDefaults): ContainerConfig {
  const userEnv = user.Env ?? [];
  const env = userEnv.length === 0
    ? [...(image.Env ?? [])]
    : [...userEnv, ...(image.Env ?? []).filter((ie) => !userEnv.some((ue) => envKey(ue) === envKey(ie)))];
  let cmd = user.Cmd ?? null;
  let entrypoint = user.Entrypoint ?? null;
  if (!entrypoint || entrypoint.length === 0) {
    if (!cmd || cmd.length === 0) cmd = image.Cmd ?? null;
    if (entrypoint === null) entrypoint = image.Entrypoint ?? null;
  }
  if (entrypoint && entrypoint.length === 1 && entrypoint[0] === '') entrypoint = [];
  const config: ContainerConfig = {
    Hostname: user.Hostname ?? '',
    Domainname: user.Domainname ?? '',
    User: user.User || image.User || '',
    AttachStdin: !!user.AttachStdin,
    AttachStdout: !!user.AttachStdout,
    AttachStderr: !!user.AttachStderr,
    ExposedPorts: { ...(image.ExposedPorts ?? {}), ...(user.ExposedPorts ?? {}) },
    Tty: !!user.Tty,
    OpenStdin: !!user.OpenStdin,
    StdinOnce: !!user.StdinOnce,
    Env: env,
    Cmd: cmd,
    Image: user.Image ?? '',
    Volumes: { ...(image.Volumes ?? {}), ...(user.Volumes ?? {}) },
    WorkingDir: user.WorkingDir || image.WorkingDir || '',
    Entrypoint: entrypoint,
    OnBuild: user.OnBuild ?? image.OnBuild ?? null,
    Labels: { ...(image.Labels ?? {}), ...(user.Labels ?? {}) },
  };
  const stopSignal = user.StopSignal || image.StopSignal;
  if (stopSignal) config.StopSignal = stopSignal;
  if (user.StopTimeout !== undefined && user.StopTimeout !== null) config.StopTimeout = user.StopTimeout;
  const health = mergeHealthcheck(user.Healthcheck, image.Healthcheck);
  if (health) config.Healthcheck = health;
  if (user.Shell ?? image.Shell) config.Shell = user.Shell ?? image.Shell ?? null;
  if (Object.keys(config.ExposedPorts!).length === 0) delete config.ExposedPorts;
  if (Object.keys(config.Volumes!).length === 0) config.Volumes = null;
  return config;
}

/** moby's merge: what the user left unset (empty Test, zero durations) comes from the image's check. */
function mergeHealthcheck(user: HealthConfig | undefined | null, image: HealthConfig | undefined | null): HealthConfig | undefined {
  if (!user) return image ?? undefined;
  if (!image) return user;
  const merged: HealthConfig = { ...user };
  if (!user.Test || user.Test.length === 0) merged.Test = image.Test ?? [];
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    if (!user[k] && image[k] !== undefined) merged[k] = image[k];
  }
  return merged;
}

/** moby validateHealthCheck: durations are 0 (the default) or at least 1ms; retries not negative. */
export function validateHealthcheck(h: HealthConfig | undefined): void {
  if (!h) return;
  const MIN_NS = 1_000_000;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
    const v = h[k] ?? 0;
    if (v !== 0 && v < MIN_NS) throw new InvalidParameter('container.invalid_healthcheck', `${k} in Healthcheck cannot be less than 1ms`);
  }
  if ((h.Retries ?? 0) < 0) throw new InvalidParameter('container.invalid_healthcheck', 'Retries in Healthcheck cannot be negative');
}

export function validateHostConfig(hc: HostConfig): void {
  const rp = hc.RestartPolicy;
  if (rp) {
    if (!RESTART_POLICIES.includes(rp.Name)) throw new InvalidParameter('container.invalid_restart_policy', `invalid restart policy '${rp.Name}'`);
    if (rp.MaximumRetryCount < 0) throw new InvalidParameter('container.invalid_restart_policy', 'invalid restart policy: maximum retry count cannot be negative');
    if (rp.MaximumRetryCount > 0 && rp.Name !== 'on-failure') {
      throw new InvalidParameter('container.invalid_restart_policy', `invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    }
    if (hc.AutoRemove && rp.Name && rp.Name !== 'no') {
      throw new InvalidParameter('container.autoremove_restart', `can't create 'AutoRemove' container with restart policy`);
    }
  }
  if (hc.Memory && hc.Memory < MIN_MEMORY) throw new InvalidParameter('container.memory_too_low', 'Minimum memory limit allowed is 6MB');
  if (hc.Memory && hc.MemorySwap && hc.MemorySwap > 0 && hc.MemorySwap < hc.Memory) {
    throw new InvalidParameter('container.memory_swap', 'Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (hc.NanoCpus && (hc.CpuQuota || hc.CpuPeriod)) {
    throw new InvalidParameter('container.cpu_conflict', 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  if (hc.ShmSize !== undefined && hc.ShmSize < 0) throw new InvalidParameter('container.shm_size', 'SHM size can not be less than 0');
  validateIsolation(hc);
}

export interface NewRecordInput {
  id: string;
  name: string;
  request: ContainerCreateRequest;
  imageId: Digest;
  imageConfig: ContainerDefaults;
  layer?: Digest;
  cgroupVersion: 1 | 2;
}

export function newContainerRecord(i: NewRecordInput): ContainerRecord {
  const config = mergeConfig(i.request, i.imageConfig);
  validateHealthcheck(config.Healthcheck);
  if (!config.Hostname) config.Hostname = i.id.slice(0, 12);
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  if (argv.length === 0) throw new InvalidParameter('container.no_command', 'No command specified');
  const hc: HostConfig = { ...(i.request.HostConfig ?? {}) };
  validateHostConfig(hc);
  hc.NetworkMode ||= 'default';
  if (!hc.LogConfig?.Type) hc.LogConfig = { Type: 'json-file', Config: hc.LogConfig?.Config ?? {} };
  rotationOf(hc.LogConfig); // bad --log-driver / --log-opt fail the create, as in Docker
  hc.RestartPolicy ??= { Name: 'no', MaximumRetryCount: 0 };
  if (!hc.RestartPolicy.Name) hc.RestartPolicy = { ...hc.RestartPolicy, Name: 'no' };
  hc.ShmSize ||= DEFAULT_SHM_SIZE;
  hc.IpcMode ||= 'private';
  hc.CgroupnsMode ||= i.cgroupVersion === 2 ? 'private' : 'host';
  hc.Runtime ||= 'runc';
  if (hc.Memory && !hc.MemorySwap) hc.MemorySwap = hc.Memory * 2;
  return {
    id: i.id,
    name: i.name,
    created: new Date().toISOString(),
    path: argv[0]!,
    args: argv.slice(1),
    config,
    hostConfig: hc,
    image: i.imageId,
    state: initialState(),
    restartCount: 0,
    manuallyStopped: false,
    ...(i.layer ? { layer: i.layer } : {}),
    mounts: [],
    networkSettings: { Networks: {}, Ports: {}, SandboxKey: '' },
  };
}
