/**
 * A pod's containers on berth's container service: each joins its
 * sandbox's network namespace (Docker's `container:<sandbox>` mode, which
 * also gives it the sandbox's hostname) and, as the pod asks, its IPC and
 * PID namespaces, writes its output in the CRI log
 * format at <log_directory>/<log_path>, and is listed through the CRI only.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { ContainerCreateRequest } from '../../api/types/index.js';
import { StdDemuxer, StdStream } from '../../api/stdcopy.js';
import { InvalidParameter, NotFound, NotModified, DeadlineExceeded } from '../../errdefs/index.js';
import type { ContainerRecord } from '../containers/record.js';
import type { ContainerService } from '../containers/service.js';
import type { ExecService } from '../containers/exec.js';
import type { CriRecords, PodSandboxConfig, PodSandboxes } from './pod-sandboxes.js';
import {
  containerState, containerStatusView, containerView, criLabels, IMAGE_LABEL, kindOf, labelsOf, matchesSelector,
  SANDBOX_ID_LABEL, sandboxIdOf, type ContainerMetadata, type StringMap,
} from './records.js';
import { podShmOf, SHM_DESTINATION } from './pod-shm.js';

export interface ContainerConfig {
  metadata?: ContainerMetadata | null;
  image?: { image?: string } | null;
  command?: string[];
  args?: string[];
  working_dir?: string;
  envs?: { key: string; value: string }[];
  mounts?: { container_path: string; host_path: string; readonly?: boolean; propagation?: string }[];
  devices?: { container_path?: string; host_path?: string; permissions?: string }[];
  labels?: StringMap;
  annotations?: StringMap;
  log_path?: string;
  stdin?: boolean;
  stdin_once?: boolean;
  tty?: boolean;
  linux?: {
    resources?: {
      cpu_period?: string; cpu_quota?: string; cpu_shares?: string; memory_limit_in_bytes?: string; oom_score_adj?: string; memory_swap_limit_in_bytes?: string;
    } | null;
    security_context?: {
      privileged?: boolean; readonly_rootfs?: boolean;
      capabilities?: { add_capabilities?: string[]; drop_capabilities?: string[] } | null;
      run_as_user?: { value: string } | null; run_as_group?: { value: string } | null; run_as_username?: string;
      namespace_options?: { pid?: string; ipc?: string; target_id?: string } | null;
      supplemental_groups?: string[]; no_new_privs?: boolean; masked_paths?: string[]; readonly_paths?: string[];
      seccomp?: { profile_type?: string; localhost_ref?: string } | null;
    } | null;
  } | null;
}

export interface PodContainerDeps {
  containers: Pick<ContainerService, 'create' | 'start' | 'stop' | 'remove' | 'update'>;
  /** Reopens the running container's log file at its path (false: it has no open log). */
  reopenLog(id: string): Promise<boolean>;
  execs: Pick<ExecService, 'create' | 'start' | 'inspect'>;
  /** SIGKILLs a running exec's process (an ExecSync past its timeout). */
  killExec(execId: string): Promise<void>;
  records: CriRecords;
  sandboxes: Pick<PodSandboxes, 'get'>;
}

/** The runtime's cap on ExecSync output per stream (the CRI's 16 MB). */
const EXEC_OUTPUT_LIMIT = 16 << 20;

function containerName(m: ContainerMetadata, sandbox: PodSandboxConfig['metadata']): string {
  return `k8s_${m.name}_${sandbox?.name ?? ''}_${sandbox?.namespace ?? ''}_${sandbox?.uid ?? ''}_${m.attempt ?? 0}`;
}

function num(v: string | undefined): number | undefined {
  const n = Number(v ?? 0);
  return n ? n : undefined;
}

/** The user in Docker's `uid[:gid]` / `name` form. */
function user(sc: NonNullable<NonNullable<ContainerConfig['linux']>['security_context']>): string | undefined {
  const u = sc.run_as_user ? sc.run_as_user.value : sc.run_as_username || undefined;
  if (u === undefined) return undefined;
  return sc.run_as_group ? `${u}:${sc.run_as_group.value}` : u;
}

/**
 * The IPC and PID namespaces the CRI asks for, as Docker modes: POD joins the
 * sandbox's (the pause process holds them), NODE is the host's, CONTAINER a
 * namespace of its own, TARGET another container's. Absent options are POD.
 */
export function namespaceModes(ns: { pid?: string; ipc?: string; target_id?: string } | null | undefined, sandboxId: string): { IpcMode: string; PidMode: string } {
  const pod = `container:${sandboxId}`;
  const ipc = ns?.ipc === 'NODE' ? 'host' : pod;
  const pid = ({ NODE: 'host', CONTAINER: '', TARGET: ns?.target_id ? `container:${ns.target_id}` : '' } as Record<string, string>)[ns?.pid ?? 'POD'] ?? pod;
  return { IpcMode: ipc, PidMode: pid };
}

type SecurityContext = NonNullable<NonNullable<ContainerConfig['linux']>['security_context']>;

/**
 * Docker security options for the CRI's: no seccomp profile given is
 * unconfined (the CRI's rule, unlike Docker's), RuntimeDefault is berth's
 * builtin profile, Localhost the profile file's JSON (read by the caller).
 */
export function securityOptions(sc: SecurityContext, localhostProfile?: string): string[] {
  const opts: string[] = [];
  if (sc.no_new_privs) opts.push('no-new-privileges:true');
  const seccomp = sc.seccomp;
  // a privileged container runs with no seccomp filter, whatever profile it names (containerd, Docker)
  if (!seccomp || seccomp.profile_type === 'Unconfined' || sc.privileged) opts.push('seccomp=unconfined');
  else if (seccomp.profile_type === 'Localhost' && localhostProfile !== undefined) opts.push(`seccomp=${localhostProfile}`);
  return opts;
}

/** The CRI's mount propagation as Docker's bind mode: HOST_TO_CONTAINER is rslave, BIDIRECTIONAL rshared, else rprivate. */
const PROPAGATION: Record<string, string> = { PROPAGATION_HOST_TO_CONTAINER: 'rslave', PROPAGATION_BIDIRECTIONAL: 'rshared' };

function bindOf(m: NonNullable<ContainerConfig['mounts']>[number]): string {
  const mode = [m.readonly ? 'ro' : '', PROPAGATION[m.propagation ?? ''] ?? ''].filter(Boolean).join(',');
  return `${m.host_path}:${m.container_path}${mode ? `:${mode}` : ''}`;
}

/**
 * `pod` is what the container takes from its sandbox: the pod's cgroup, its
 * /dev/shm for a container in the pod's IPC namespace, and with `hostNetwork`
 * the node's network namespace, used directly (as containerd) rather than
 * through the pause process's.
 */
export function containerCreateRequest(cfg: ContainerConfig, sandboxId: string, localhostProfile?: string, pod: { cgroupParent?: string; shm?: string; hostNetwork?: boolean } = {}): ContainerCreateRequest {
  const sc = cfg.linux?.security_context ?? {};
  const res = cfg.linux?.resources ?? {};
  const u = user(sc);
  const req: ContainerCreateRequest = {
    Image: cfg.image?.image ?? '',
    Env: (cfg.envs ?? []).map((e) => `${e.key}=${e.value}`),
    Labels: criLabels('container', cfg.metadata ?? {}, cfg.labels ?? {}, cfg.annotations ?? {}, {
      [SANDBOX_ID_LABEL]: sandboxId, [IMAGE_LABEL]: cfg.image?.image ?? '',
    }),
    Tty: !!cfg.tty, OpenStdin: !!cfg.stdin, StdinOnce: !!cfg.stdin_once, AttachStdin: false,
    HostConfig: {
      NetworkMode: pod.hostNetwork ? 'host' : `container:${sandboxId}`,
      ...namespaceModes(sc.namespace_options, sandboxId),
      Binds: [...(cfg.mounts ?? []).map(bindOf), ...(pod.shm && sc.namespace_options?.ipc !== 'NODE' ? [`${pod.shm}:${SHM_DESTINATION}`] : [])],
      Devices: (cfg.devices ?? []).map((d) => ({ PathOnHost: d.host_path ?? '', PathInContainer: d.container_path || d.host_path || '', CgroupPermissions: d.permissions || 'rwm' })),
      ...(pod.cgroupParent ? { CgroupParent: pod.cgroupParent } : {}),
      Privileged: !!sc.privileged, ReadonlyRootfs: !!sc.readonly_rootfs,
      CapAdd: sc.capabilities?.add_capabilities ?? [], CapDrop: sc.capabilities?.drop_capabilities ?? [],
      SecurityOpt: securityOptions(sc, localhostProfile),
      GroupAdd: (sc.supplemental_groups ?? []).map(String),
      ...(sc.masked_paths?.length ? { MaskedPaths: sc.masked_paths } : {}),
      ...(sc.readonly_paths?.length ? { ReadonlyPaths: sc.readonly_paths } : {}),
      ...(num(res.cpu_shares) ? { CpuShares: num(res.cpu_shares)! } : {}),
      ...(num(res.cpu_quota) ? { CpuQuota: num(res.cpu_quota)! } : {}),
      ...(num(res.cpu_period) ? { CpuPeriod: num(res.cpu_period)! } : {}),
      ...(num(res.memory_limit_in_bytes) ? { Memory: num(res.memory_limit_in_bytes)! } : {}),
      ...(num(res.memory_swap_limit_in_bytes) ? { MemorySwap: num(res.memory_swap_limit_in_bytes)! } : {}),
      ...(num(res.oom_score_adj) ? { OomScoreAdj: num(res.oom_score_adj)! } : {}),
    },
  };
  // the CRI's command is Docker's entrypoint, its args Docker's cmd; empty keeps the image's
  if (cfg.command?.length) req.Entrypoint = cfg.command;
  if (cfg.args?.length) req.Cmd = cfg.args;
  if (cfg.working_dir) req.WorkingDir = cfg.working_dir;
  if (u !== undefined) req.User = u;
  return req;
}

const ignoreGone = (err: unknown) => {
  if (err instanceof NotFound || err instanceof NotModified) return;
  throw err;
};

export class PodContainers {
  constructor(private readonly d: PodContainerDeps) {}

  private find(id: string): ContainerRecord | undefined {
    const rec = id ? this.d.records.find(id) : undefined;
    return rec && kindOf(rec) === 'container' ? rec : undefined;
  }

  get(id: string): ContainerRecord {
    const rec = this.find(id);
    if (!rec) throw new NotFound('cri.container_not_found', `an error occurred when try to find container "${id}": not found`);
    return rec;
  }

  async create(sandboxId: string, cfg: ContainerConfig, sandboxCfg: PodSandboxConfig | null | undefined): Promise<string> {
    const sandbox = this.d.sandboxes.get(sandboxId);
    if (!cfg.metadata?.name) throw new InvalidParameter('cri.container_metadata', 'container config must include metadata with a name');
    if (!cfg.image?.image) throw new InvalidParameter('cri.container_image', 'container config must include an image');
    let logPath: string | undefined;
    if (cfg.log_path) {
      const dir = sandboxCfg?.log_directory ?? '';
      logPath = isAbsolute(cfg.log_path) ? cfg.log_path : join(dir, cfg.log_path);
      if (!isAbsolute(logPath)) throw new InvalidParameter('cri.log_path', `log path ${logPath} must be absolute (the sandbox's log_directory plus the container's log_path)`);
      await mkdir(dirname(logPath), { recursive: true, mode: 0o755 });
    }
    const sc = cfg.linux?.security_context;
    // a group alone would run as root with that group: refused, containerd's rule and words
    if (sc?.run_as_group && !sc.run_as_user && !sc.run_as_username) throw new InvalidParameter('cri.run_as_group', 'user group is specified without user or username');
    const seccomp = sc?.seccomp;
    let profile: string | undefined;
    if (seccomp?.profile_type === 'Localhost') {
      if (!seccomp.localhost_ref) throw new InvalidParameter('cri.seccomp_profile', 'a Localhost seccomp profile needs localhost_ref, the path of the profile');
      profile = await readFile(seccomp.localhost_ref, 'utf8').catch((err: Error) => {
        throw new InvalidParameter('cri.seccomp_profile', `cannot load seccomp profile ${JSON.stringify(seccomp.localhost_ref)}: ${err.message}`);
      });
    }
    const name = containerName(cfg.metadata, sandboxCfg?.metadata);
    const { Id } = await this.d.containers.create(containerCreateRequest(cfg, sandbox.id, profile, {
      cgroupParent: sandbox.hostConfig.CgroupParent ?? '', shm: podShmOf(sandbox.hostConfig.Binds) ?? '', hostNetwork: sandbox.hostConfig.NetworkMode === 'host',
    }), name, { cri: logPath ? { logPath } : {} });
    return Id;
  }

  async start(id: string): Promise<void> {
    await this.d.containers.start(this.get(id).id);
  }

  /** Idempotent: a stopped or removed container is not an error. */
  async stop(id: string, timeoutSeconds: number): Promise<void> {
    const rec = this.find(id);
    if (!rec || !rec.state.Running) return;
    await this.d.containers.stop(rec.id, { timeout: Math.max(0, timeoutSeconds) }).catch(ignoreGone);
  }

  /** Idempotent: a removed container is not an error. */
  async remove(id: string): Promise<void> {
    const rec = this.find(id);
    if (!rec) return;
    await this.d.containers.remove(rec.id, { force: true }).catch(ignoreGone);
  }

  /**
   * The CPU shares, quota and period and the memory limit, through the same
   * path as `docker update` (the cgroup of a running container and the
   * record); a field left at 0 keeps its value. A new memory limit without
   * a swap limit gets the one creation gives (twice the memory, Docker's rule),
   * so that raising it past the old swap limit is not refused.
   */
  async updateResources(id: string, linux: NonNullable<NonNullable<ContainerConfig['linux']>['resources']> | null | undefined): Promise<void> {
    const rec = this.get(id);
    const r = linux ?? {};
    await this.d.containers.update(rec.id, {
      ...(num(r.cpu_shares) ? { CpuShares: num(r.cpu_shares)! } : {}),
      ...(num(r.cpu_quota) ? { CpuQuota: num(r.cpu_quota)! } : {}),
      ...(num(r.cpu_period) ? { CpuPeriod: num(r.cpu_period)! } : {}),
      ...(num(r.memory_limit_in_bytes) ? { Memory: num(r.memory_limit_in_bytes)!, MemorySwap: num(r.memory_swap_limit_in_bytes) ?? 2 * num(r.memory_limit_in_bytes)! } : {}),
    });
  }

  /** After the kubelet renamed the log to rotate it: the writer opens the path again. containerd's rule: only a running container. */
  async reopenLog(id: string): Promise<void> {
    const rec = this.get(id);
    if (!rec.state.Running) throw new NotModified('cri.container_not_running', 'container is not running');
    await this.d.reopenLog(rec.id);
  }

  status(id: string): object {
    return { status: containerStatusView(this.get(id)), info: {} };
  }

  list(filter: { id?: string; state?: { state?: string } | null; pod_sandbox_id?: string; label_selector?: StringMap } | null | undefined): object[] {
    return this.d.records.list()
      .filter((r) => kindOf(r) === 'container')
      .filter((r) => !filter?.id || r.id.startsWith(filter.id))
      .filter((r) => !filter?.pod_sandbox_id || sandboxIdOf(r).startsWith(filter.pod_sandbox_id))
      .filter((r) => !filter?.state || containerState(r) === filter.state.state)
      .filter((r) => matchesSelector(filter?.label_selector, labelsOf(r)))
      .map(containerView);
  }

  /** Runs a command to its end; stdout and stderr apart, each capped at 16 MB. */
  async execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<{ stdout: Buffer; stderr: Buffer; exit_code: number }> {
    const rec = this.get(id);
    if (!cmd.length) throw new InvalidParameter('cri.exec_no_command', 'no command specified');
    const { Id: execId } = this.d.execs.create(rec.id, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sizes = { out: 0, err: 0 };
    const demux = new StdDemuxer((stream, payload) => {
      const which = stream === StdStream.Stderr ? 'err' : 'out';
      if (sizes[which] >= EXEC_OUTPUT_LIMIT) return;
      const piece = payload.subarray(0, EXEC_OUTPUT_LIMIT - sizes[which]);
      sizes[which] += piece.length;
      (which === 'err' ? err : out).push(Buffer.from(piece));
    });
    const output = new PassThrough();
    output.on('data', (c: Buffer) => demux.push(c));
    const done = this.d.execs.start(execId, { output, tty: false });
    if (timeoutSeconds > 0) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineExceeded('cri.exec_timeout', `failed to exec in container: timeout ${timeoutSeconds}s exceeded: context deadline exceeded`)), timeoutSeconds * 1000);
      });
      try {
        await Promise.race([done, expired]);
      } catch (err) {
        await this.d.killExec(execId).catch(() => {});
        await done.catch(() => {});
        throw err;
      } finally {
        clearTimeout(timer);
      }
    } else {
      await done;
    }
    const exitCode = this.d.execs.inspect(execId).ExitCode ?? 0;
    return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exit_code: exitCode };
  }
}
