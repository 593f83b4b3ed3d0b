/**
 * How a CRI object lives in berth: a container record made with the `cri`
 * create option (out of `docker ps`), carrying the CRI's own metadata,
 * labels and annotations as JSON in labels of its own, so that they survive
 * a daemon restart with the record. And the pure views of such a record as
 * the CRI messages describe it.
 *
 *   sandbox k8s_POD_web_default_<uid>_0      labels: io.berth.cri.kind=sandbox, .metadata={"name":"web",...}
 *   container k8s_app_web_default_<uid>_0    labels: io.berth.cri.kind=container, .sandbox-id=<sandbox id>
 */
import type { ContainerRecord } from '../containers/record.js';
import { ZERO_TIME } from '../containers/record.js';
import { isPodShmMount } from './pod-shm.js';

export const KIND_LABEL = 'io.berth.cri.kind';
export const SANDBOX_ID_LABEL = 'io.berth.cri.sandbox-id';
export const METADATA_LABEL = 'io.berth.cri.metadata';
export const LABELS_LABEL = 'io.berth.cri.labels';
export const ANNOTATIONS_LABEL = 'io.berth.cri.annotations';
export const IMAGE_LABEL = 'io.berth.cri.image';

export type CriKind = 'sandbox' | 'container';
export type StringMap = Record<string, string>;

export interface SandboxMetadata { name: string; uid: string; namespace: string; attempt: number }
export interface ContainerMetadata { name: string; attempt: number }

/** The labels a new CRI record carries. */
export function criLabels(kind: CriKind, metadata: object, labels: StringMap, annotations: StringMap, extra: StringMap = {}): StringMap {
  return {
    [KIND_LABEL]: kind, [METADATA_LABEL]: JSON.stringify(metadata), [LABELS_LABEL]: JSON.stringify(labels ?? {}),
    [ANNOTATIONS_LABEL]: JSON.stringify(annotations ?? {}), ...extra,
  };
}

export function kindOf(rec: ContainerRecord): CriKind | undefined {
  if (!rec.cri) return undefined;
  const k = rec.config.Labels?.[KIND_LABEL];
  return k === 'sandbox' || k === 'container' ? k : undefined;
}

function json<T>(rec: ContainerRecord, label: string, fallback: T): T {
  const raw = rec.config.Labels?.[label];
  if (!raw) return fallback;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return fallback;
  }
}

/** The CRI metadata the object was created with. */
export function metadataOf<T extends object>(rec: ContainerRecord): T | null {
  return json<T | null>(rec, METADATA_LABEL, null);
}

export function labelsOf(rec: ContainerRecord): StringMap {
  return json<StringMap>(rec, LABELS_LABEL, {});
}

export function annotationsOf(rec: ContainerRecord): StringMap {
  return json<StringMap>(rec, ANNOTATIONS_LABEL, {});
}

export function sandboxIdOf(rec: ContainerRecord): string {
  return rec.config.Labels?.[SANDBOX_ID_LABEL] ?? '';
}

/** Nanoseconds since the epoch as the decimal string an int64 travels as; 0 for Docker's zero time. */
export function nanos(iso: string | undefined): string {
  if (!iso || iso === ZERO_TIME) return '0';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '0';
  // Date keeps milliseconds; the record's string may carry up to nanoseconds
  const frac = /\.(\d+)Z$/.exec(iso)?.[1] ?? '';
  const sub = BigInt((frac.padEnd(9, '0').slice(3, 9)) || '0');
  return (BigInt(ms) * 1_000_000n + sub).toString();
}

/** Kubernetes' MatchLabels: every key of the selector with the same value. */
export function matchesSelector(selector: StringMap | undefined, labels: StringMap): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export function sandboxState(rec: ContainerRecord): SandboxState {
  return rec.state.Running ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY';
}

export function sandboxView(rec: ContainerRecord): object {
  return {
    id: rec.id, metadata: json<SandboxMetadata | null>(rec, METADATA_LABEL, null), state: sandboxState(rec),
    created_at: nanos(rec.created), labels: labelsOf(rec), annotations: annotationsOf(rec), runtime_handler: '',
  };
}

/** The pod's address: the infra container's on its (one) CNI network. */
export function podIp(rec: ContainerRecord): string {
  for (const ep of Object.values(rec.networkSettings.Networks ?? {})) if (ep.IPAddress) return ep.IPAddress;
  return '';
}

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export function containerState(rec: ContainerRecord): ContainerState {
  switch (rec.state.Status) {
    case 'created': return 'CONTAINER_CREATED';
    case 'running': case 'paused': case 'restarting': return 'CONTAINER_RUNNING';
    case 'exited': case 'dead': return 'CONTAINER_EXITED';
    default: return 'CONTAINER_UNKNOWN';
  }
}

function imageSpec(rec: ContainerRecord): object {
  return { image: rec.config.Labels?.[IMAGE_LABEL] ?? rec.config.Image, annotations: {}, user_specified_image: '', runtime_handler: '' };
}

export function containerView(rec: ContainerRecord): object {
  return {
    id: rec.id, pod_sandbox_id: sandboxIdOf(rec), metadata: json<ContainerMetadata | null>(rec, METADATA_LABEL, null),
    image: imageSpec(rec), image_ref: rec.image, state: containerState(rec), created_at: nanos(rec.created),
    labels: labelsOf(rec), annotations: annotationsOf(rec), image_id: rec.image,
  };
}

/** containerd's reasons: OOMKilled, Completed (exit 0) or Error. */
function reason(rec: ContainerRecord): string {
  if (containerState(rec) !== 'CONTAINER_EXITED') return '';
  if (rec.state.OOMKilled) return 'OOMKilled';
  return rec.state.ExitCode === 0 ? 'Completed' : 'Error';
}

/** Docker's bind propagation back as the CRI's (the inverse of pod-containers.ts's mapping). */
const PROPAGATION: Record<string, string> = {
  rslave: 'PROPAGATION_HOST_TO_CONTAINER', slave: 'PROPAGATION_HOST_TO_CONTAINER',
  rshared: 'PROPAGATION_BIDIRECTIONAL', shared: 'PROPAGATION_BIDIRECTIONAL',
};

export function containerStatusView(rec: ContainerRecord): object {
  return {
    id: rec.id, metadata: json<ContainerMetadata | null>(rec, METADATA_LABEL, null), state: containerState(rec),
    created_at: nanos(rec.created), started_at: nanos(rec.state.StartedAt),
    finished_at: containerState(rec) === 'CONTAINER_EXITED' ? nanos(rec.state.FinishedAt) : '0',
    exit_code: rec.state.ExitCode, image: imageSpec(rec), image_ref: rec.image, reason: reason(rec), message: rec.state.Error ?? '',
    labels: labelsOf(rec), annotations: annotationsOf(rec),
    mounts: rec.mounts.filter((m) => m.Type === 'bind' && !isPodShmMount(m))
      .map((m) => ({ container_path: m.Destination, host_path: m.Source, readonly: !m.RW, propagation: PROPAGATION[m.Propagation] ?? 'PROPAGATION_PRIVATE' })),
    log_path: rec.cri?.logPath ?? '', image_id: rec.image,
    resources: { linux: linuxResources(rec) },
  };
}

/** The resources the container runs with now (after UpdateContainerResources too), as the kubelet reads them back. */
function linuxResources(rec: ContainerRecord): object {
  const hc = rec.hostConfig;
  const n = (v: number | undefined | null) => String(v ?? 0);
  return {
    cpu_period: n(hc.CpuPeriod), cpu_quota: n(hc.CpuQuota), cpu_shares: n(hc.CpuShares), memory_limit_in_bytes: n(hc.Memory),
    oom_score_adj: n(hc.OomScoreAdj), cpuset_cpus: hc.CpusetCpus ?? '', cpuset_mems: hc.CpusetMems ?? '',
    memory_swap_limit_in_bytes: n(hc.MemorySwap && hc.MemorySwap > 0 ? hc.MemorySwap : 0),
  };
}
