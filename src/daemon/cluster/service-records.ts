/**
 * Services and tasks as they sit in the cluster store, and their API views.
 * Pure: the orchestrator, scheduler, agent and API read and write these.
 *
 *   /berth/swarm/services/<id>     ServiceRecord; Version.Index = the key's modRevision
 *   /berth/swarm/service-locks/<id> rewritten by every orchestrator write for the service:
 *                                  writes compare it, so two managers deciding from
 *                                  the same read never both create a slot's task
 *   /berth/swarm/service-names/<name> the service's id; created in the create transaction only if
 *                                  absent (lower case: swarmkit's names are case-insensitive)
 *   /berth/swarm/tasks/<id>        TaskRecord; Version.Index = the key's modRevision
 *
 * A task's life (swarmkit's states, in order): pending (created by the
 * orchestrator, waiting for a node) → assigned (scheduler) → preparing →
 * starting → running (the node's agent) → complete | failed | shutdown |
 * rejected. `desiredState` is what the managers want (ready: prepare the
 * container but do not start it yet; running, shutdown, remove);
 * `status.state` is what the agent saw. A task is never moved back:
 * a restart is a new task in the same slot.
 */
import type { PortConfigView, ServiceSpecView, ServiceView, TaskSpecView, TaskState, TaskView } from '../../api/types/index.js';
import { SWARM_PREFIX } from './swarm-objects.js';

export const SERVICES_PREFIX = `${SWARM_PREFIX}services/`;
export const SERVICE_LOCKS_PREFIX = `${SWARM_PREFIX}service-locks/`;
export const TASKS_PREFIX = `${SWARM_PREFIX}tasks/`;
export const serviceKey = (id: string) => `${SERVICES_PREFIX}${id}`;
export const serviceLockKey = (id: string) => `${SERVICE_LOCKS_PREFIX}${id}`;
export const serviceNameKey = (name: string) => `${SWARM_PREFIX}service-names/${name.toLowerCase()}`;
export const taskKey = (id: string) => `${TASKS_PREFIX}${id}`;

export interface ServiceRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  spec: ServiceSpecView;
  previousSpec?: ServiceSpecView;
  /** Bumped by each spec change; a task made from this spec carries it (moby's `_up-to-date` filter compares them). */
  specVersion: number;
  /** previousSpec's specVersion: a rollback goes back to it, so tasks still on that spec stay. */
  previousSpecVersion?: number;
  /** The rolling update in progress or last done (swarmkit's UpdateStatus); cleared by each `service update`. */
  updateStatus?: UpdateStatusRecord;
  /** Endpoint.Ports: the spec's published ports, ingress ones with the port assigned (ingress-ports.ts). */
  endpointPorts?: PortConfigView[];
  /** Set while the service publishes ports in mode ingress: its tasks join that network. */
  ingressNetworkId?: string;
}

export type UpdateState = 'updating' | 'paused' | 'completed' | 'rollback_started' | 'rollback_paused' | 'rollback_completed';

export interface UpdateStatusRecord {
  state: UpdateState;
  /** RFC 3339. */
  startedAt: string;
  completedAt?: string;
  message: string;
}

export interface TaskStatus {
  state: TaskState;
  message: string;
  err?: string;
  /** RFC 3339. */
  timestamp: string;
  containerStatus?: { containerId?: string; pid?: number; exitCode?: number };
}

export interface TaskRecord {
  id: string;
  serviceId: string;
  /** The service's name when the task was made: the container's name and labels. */
  serviceName: string;
  /** Replicated services: 1..replicas. Global services have none: the node is the slot. */
  slot?: number;
  nodeId?: string;
  desiredState: TaskState;
  status: TaskStatus;
  /** A copy of the service's task template (networks will be attached here later). */
  spec: TaskSpecView;
  specVersion: number;
  /** The service's published ports in mode host when the task was made: bound on the task's node. */
  hostPorts?: PortConfigView[];
  /** The ingress network, when the service publishes ports through the routing mesh: the task joins it. */
  ingressNetworkId?: string;
  createdAt: string;
  updatedAt: string;
  /** When the agent first saw it running (the update monitor counts from here). */
  runningAt?: string;
  /** Desired `ready` (a restart or a stop-first replacement): not started before this time (RFC 3339). */
  startAfter?: string;
  /** The times of the restarts that led to this task in its slot, newest last (restart-policy.ts). */
  restarts?: string[];
}

/** Meant to hold its slot: running, or ready to start once its predecessor stopped and its delay passed. */
export const isLive = (t: Pick<TaskRecord, 'desiredState'>): boolean => t.desiredState === 'running' || t.desiredState === 'ready';

/** Swarmkit's order of task states: a task only ever moves forward. */
export const TASK_STATE_ORDER: TaskState[] = [
  'new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned',
];
export const stateRank = (s: TaskState): number => TASK_STATE_ORDER.indexOf(s === 'allocated' ? 'pending' : s);
/** The task's container has ended, or never will run. */
export const isTerminal = (s: TaskState): boolean => stateRank(s) > stateRank('running');

export function isGlobal(spec: ServiceSpecView): boolean {
  return !!spec.Mode?.Global;
}

export function replicasOf(spec: ServiceSpecView): number {
  return spec.Mode?.Replicated?.Replicas ?? 1;
}

/** A spec's published ports with swarmkit's defaults filled in (protocol tcp, mode ingress). */
export function endpointPorts(spec: ServiceSpecView): PortConfigView[] {
  return (spec.EndpointSpec?.Ports ?? []).map((p) => ({
    ...(p.Name ? { Name: p.Name } : {}), Protocol: p.Protocol ?? 'tcp', TargetPort: p.TargetPort ?? 0, PublishedPort: p.PublishedPort ?? 0, PublishMode: p.PublishMode ?? 'ingress',
  }));
}

export function hostModePorts(spec: ServiceSpecView): PortConfigView[] {
  return endpointPorts(spec).filter((p) => p.PublishMode === 'host');
}

/** `<service>.<slot>` or `<service>.<node id>` (global), as `docker service ps` and the container name use it. */
export function taskName(t: Pick<TaskRecord, 'serviceName' | 'slot' | 'nodeId' | 'id'>): string {
  return `${t.serviceName}.${t.slot ?? t.nodeId ?? ''}`;
}

/** The task's container: `<service>.<slot>.<task id>`, as dockerd's executor names it. */
export function containerName(t: TaskRecord): string {
  return `${taskName(t)}.${t.id}`;
}

/** `vips`: the service's virtual IPs (service-vips.ts), as Endpoint.VirtualIPs. */
export function serviceView(s: ServiceRecord, modRevision: number, status?: ServiceView['ServiceStatus'], vips: { NetworkID: string; Addr: string }[] = []): ServiceView {
  return {
    ID: s.id,
    Version: { Index: modRevision },
    CreatedAt: s.createdAt,
    UpdatedAt: s.updatedAt,
    Spec: s.spec,
    ...(s.previousSpec ? { PreviousSpec: s.previousSpec } : {}),
    ...(s.updateStatus ? { UpdateStatus: updateStatusView(s.updateStatus) } : {}),
    Endpoint: {
      Spec: { Mode: s.spec.EndpointSpec?.Mode ?? 'vip', ...(s.spec.EndpointSpec?.Ports?.length ? { Ports: s.spec.EndpointSpec.Ports } : {}) },
      ...(s.spec.EndpointSpec?.Ports?.length ? { Ports: s.endpointPorts ?? endpointPorts(s.spec) } : {}),
      ...(vips.length ? { VirtualIPs: vips } : {}),
    },
    ...(status ? { ServiceStatus: status } : {}),
  };
}

function updateStatusView(u: UpdateStatusRecord): NonNullable<ServiceView['UpdateStatus']> {
  return { State: u.state, StartedAt: u.startedAt, ...(u.completedAt ? { CompletedAt: u.completedAt } : {}), Message: u.message };
}

export function taskView(t: TaskRecord, modRevision: number): TaskView {
  const cs = t.status.containerStatus;
  return {
    ID: t.id,
    Version: { Index: modRevision },
    CreatedAt: t.createdAt,
    UpdatedAt: t.updatedAt,
    Labels: {},
    Spec: t.spec,
    ServiceID: t.serviceId,
    ...(t.slot !== undefined ? { Slot: t.slot } : {}),
    ...(t.nodeId ? { NodeID: t.nodeId } : {}),
    Status: {
      Timestamp: t.status.timestamp,
      State: t.status.state,
      Message: t.status.message,
      ...(t.status.err ? { Err: t.status.err } : {}),
      ...(cs ? { ContainerStatus: { ...(cs.containerId ? { ContainerID: cs.containerId } : {}), ...(cs.pid ? { PID: cs.pid } : {}), ...(cs.exitCode !== undefined ? { ExitCode: cs.exitCode } : {}) } } : {}),
      // the host ports a running task holds on its node
      PortStatus: t.hostPorts?.length && t.status.state === 'running' ? { Ports: t.hostPorts } : {},
    },
    DesiredState: t.desiredState,
  };
}

/** moby's ServiceStatus for `service ls`: running tasks on live nodes against the replicas (or, global, the tasks meant to run). */
export function serviceStatus(s: ServiceRecord, tasks: TaskRecord[], liveNodes: Set<string>): NonNullable<ServiceView['ServiceStatus']> {
  const mine = tasks.filter((t) => t.serviceId === s.id);
  const running = mine.filter((t) => t.status.state === 'running' && t.nodeId && liveNodes.has(t.nodeId) && t.desiredState === 'running').length;
  const desired = isGlobal(s.spec) ? mine.filter((t) => t.desiredState === 'running' && t.nodeId && liveNodes.has(t.nodeId)).length : replicasOf(s.spec);
  return { RunningTasks: running, DesiredTasks: desired, CompletedTasks: mine.filter((t) => t.status.state === 'complete').length };
}
