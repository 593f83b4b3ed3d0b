/**
 * Pod sandboxes on berth's container service. A sandbox is an infra
 * ("pause") container, as dockershim and containerd do it: it holds the
 * pod's network namespace (set up by the same CNI bridge plugin as
 * `docker run`), its hostname, DNS config and host ports, and the pod's
 * containers join it with Docker's `container:<id>` network mode. An
 * infra-less design would need a namespace with no process in it, which
 * berth's networking and restore code (keyed by container) does not have;
 * the pause process costs one shim and about 2.5 MB.
 */
import { mkdir } from 'node:fs/promises';
import type { ContainerCreateRequest, PortMap } from '../../api/types/index.js';
import { InvalidParameter, NotFound, NotModified } from '../../errdefs/index.js';
import type { ContainerRecord } from '../containers/record.js';
import type { ContainerService } from '../containers/service.js';
import {
  criLabels, kindOf, matchesSelector, labelsOf, podIp, sandboxIdOf, sandboxState, sandboxView, containerStatusView,
  type SandboxMetadata, type StringMap,
} from './records.js';
import { podSysctls } from './sysctls.js';
import { podShmOf, SHM_DESTINATION, type PodShm } from './pod-shm.js';

export interface PodSandboxConfig {
  metadata?: SandboxMetadata | null;
  hostname?: string;
  log_directory?: string;
  dns_config?: { servers?: string[]; searches?: string[]; options?: string[] } | null;
  port_mappings?: { protocol?: string; container_port?: number; host_port?: number; host_ip?: string }[];
  labels?: StringMap;
  annotations?: StringMap;
  linux?: {
    /** The pod's cgroup (the kubelet's, e.g. /kubepods/burstable/pod<uid>): the sandbox's and its containers' parent. */
    cgroup_parent?: string;
    sysctls?: StringMap;
    security_context?: { namespace_options?: { network?: string; pid?: string; ipc?: string } | null } | null;
  } | null;
}

export interface CriRecords {
  list(): ContainerRecord[];
  find(ref: string): ContainerRecord | undefined;
}

export interface PodSandboxDeps {
  containers: Pick<ContainerService, 'create' | 'start' | 'stop' | 'remove'>;
  records: CriRecords;
  /** The infra image (containerd's sandbox_image); pulled when missing. */
  sandboxImage: string;
  ensureImage(ref: string): Promise<void>;
  /** The pods' /dev/shm mounts (absent: each container keeps a /dev/shm of its own). */
  shm?: Pick<PodShm, 'create' | 'remove'>;
}

/** A Docker name from the pod's metadata, as dockershim named its containers. */
export function sandboxName(m: SandboxMetadata): string {
  return `k8s_POD_${m.name}_${m.namespace}_${m.uid}_${m.attempt ?? 0}`;
}

/** `shm` is the pod's /dev/shm on the host, bound into the sandbox (and its containers). */
export function sandboxCreateRequest(cfg: PodSandboxConfig, image: string, shm?: string): ContainerCreateRequest {
  const ns = cfg.linux?.security_context?.namespace_options;
  const hostNetwork = ns?.network === 'NODE';
  const ports: PortMap = {};
  const exposed: Record<string, object> = {};
  for (const p of cfg.port_mappings ?? []) {
    // host_port 0: no host port (the CRI's rule), the port is only reachable on the pod's address
    if (!p.container_port || !p.host_port) continue;
    const key = `${p.container_port}/${(p.protocol || 'TCP').toLowerCase()}`;
    exposed[key] = {};
    (ports[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: String(p.host_port) });
  }
  const dns = cfg.dns_config;
  const sysctls = podSysctls(cfg.linux?.sysctls, ns);
  return {
    Image: image,
    Hostname: hostNetwork ? '' : (cfg.hostname ?? ''),
    Labels: criLabels('sandbox', cfg.metadata ?? {}, cfg.labels ?? {}, cfg.annotations ?? {}),
    ExposedPorts: exposed,
    HostConfig: {
      NetworkMode: hostNetwork ? 'host' : 'bridge',
      ...(ns?.ipc === 'NODE' ? { IpcMode: 'host' } : {}),
      ...(ns?.pid === 'NODE' ? { PidMode: 'host' } : {}),
      PortBindings: hostNetwork ? {} : ports,
      Dns: dns?.servers ?? [], DnsSearch: dns?.searches ?? [], DnsOptions: dns?.options ?? [],
      ...(cfg.linux?.cgroup_parent ? { CgroupParent: cfg.linux.cgroup_parent } : {}),
      ...(shm ? { Binds: [`${shm}:${SHM_DESTINATION}`] } : {}),
      ...(Object.keys(sysctls).length ? { Sysctls: sysctls } : {}),
    },
  };
}

const ignoreGone = (err: unknown) => {
  if (err instanceof NotFound || err instanceof NotModified) return;
  throw err;
};

export class PodSandboxes {
  constructor(private readonly d: PodSandboxDeps) {}

  /** The sandbox's record; NotFound for a missing one or for a record that is not a CRI sandbox. */
  get(id: string): ContainerRecord {
    const rec = this.find(id);
    if (!rec) throw new NotFound('cri.sandbox_not_found', `an error occurred when try to find sandbox: not found: ${id}`);
    return rec;
  }

  private find(id: string): ContainerRecord | undefined {
    const rec = id ? this.d.records.find(id) : undefined;
    return rec && kindOf(rec) === 'sandbox' ? rec : undefined;
  }

  private containersOf(sandboxId: string): ContainerRecord[] {
    return this.d.records.list().filter((r) => kindOf(r) === 'container' && sandboxIdOf(r) === sandboxId);
  }

  async run(cfg: PodSandboxConfig): Promise<string> {
    const m = cfg.metadata;
    if (!m?.name || !m.namespace || !m.uid) throw new InvalidParameter('cri.sandbox_metadata', 'sandbox config must include metadata with name, namespace and uid');
    await this.d.ensureImage(this.d.sandboxImage);
    if (cfg.log_directory) await mkdir(cfg.log_directory, { recursive: true, mode: 0o755 });
    // a pod on the node's IPC namespace has no /dev/shm of its own to share
    const hostIpc = cfg.linux?.security_context?.namespace_options?.ipc === 'NODE';
    const shm = hostIpc ? undefined : this.d.shm?.create();
    let id: string | undefined;
    try {
      // the record is written while the shm is mounted
      const [created, mounted] = await Promise.allSettled([
        this.d.containers.create(sandboxCreateRequest(cfg, this.d.sandboxImage, shm?.path), sandboxName(m), { cri: {} }),
        shm?.ready,
      ]);
      if (created.status === 'rejected') throw created.reason;
      id = created.value.Id;
      if (mounted.status === 'rejected') throw mounted.reason;
      await this.d.containers.start(id);
    } catch (err) {
      if (id) await this.d.containers.remove(id, { force: true }).catch(() => {});
      if (shm && (await shm.ready.then(() => true, () => false))) await this.d.shm?.remove(shm.path).catch(() => {});
      throw err;
    }
    return id;
  }

  /** Stops the pod's containers, then its infra container (which releases the network). Idempotent. */
  async stop(id: string): Promise<void> {
    const rec = this.find(id);
    if (!rec) return;
    await Promise.all(this.containersOf(rec.id).filter((c) => c.state.Running).map((c) => this.d.containers.stop(c.id, { timeout: 0 }).catch(ignoreGone)));
    // the pause process has no reason to wait for a grace period
    if (rec.state.Running) await this.d.containers.stop(rec.id, { timeout: 0, signal: 'SIGKILL' }).catch(ignoreGone);
  }

  /** Removes the pod's containers and its infra container, running or not. Idempotent. */
  async remove(id: string): Promise<void> {
    const rec = this.find(id);
    if (!rec) return;
    await Promise.all(this.containersOf(rec.id).map((c) => this.d.containers.remove(c.id, { force: true }).catch(ignoreGone)));
    await this.d.containers.remove(rec.id, { force: true }).catch(ignoreGone);
    const shm = podShmOf(rec.hostConfig.Binds);
    if (shm) await this.d.shm?.remove(shm);
  }

  status(id: string): object {
    const rec = this.get(id);
    const hostNetwork = rec.hostConfig.NetworkMode === 'host';
    return {
      status: {
        ...sandboxView(rec),
        network: { ip: hostNetwork ? '' : podIp(rec), additional_ips: [] },
        linux: { namespaces: { options: {
          network: hostNetwork ? 'NODE' : 'POD', pid: rec.hostConfig.PidMode === 'host' ? 'NODE' : 'POD',
          ipc: rec.hostConfig.IpcMode === 'host' ? 'NODE' : 'POD', target_id: '',
        } } },
      },
      info: {},
      containers_statuses: this.containersOf(rec.id).map(containerStatusView),
      timestamp: String(BigInt(Date.now()) * 1_000_000n),
    };
  }

  list(filter: { id?: string; state?: { state?: string } | null; label_selector?: StringMap } | null | undefined): object[] {
    return this.d.records.list()
      .filter((r) => kindOf(r) === 'sandbox')
      .filter((r) => !filter?.id || r.id.startsWith(filter.id))
      .filter((r) => !filter?.state || sandboxState(r) === filter.state.state)
      .filter((r) => matchesSelector(filter?.label_selector, labelsOf(r)))
      .map(sandboxView);
  }
}
