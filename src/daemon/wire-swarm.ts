/**
 * Swarm mode's part of the composition root, loaded by lazy/swarm.ts only
 * when this node is in a swarm or a swarm request comes (issue 18: a daemon
 * outside a swarm never holds the cluster code): the swarm service with this
 * node's task containers and task logs, and the overlay driver that follows
 * its membership.
 */
import { join } from 'node:path';
import type { Logger } from '../lib/logger.js';
import type { LogEntry } from './logs/entry.js';
import type { PublishClusterEvent } from './cluster/cluster-events.js';
import { SwarmService } from './cluster/swarm-service.js';
import { taskContainers, type TaskContainersDeps } from './cluster/task-containers.js';
import { TASK_ID_LABEL } from './cluster/task-container.js';
import type { TaskLogQuery } from './cluster/task-log-source.js';
import type { NetworkService } from './networks/service.js';
import { OverlayNetworks } from './networks/overlay/overlay-networks.js';
import { BRIDGE_PREFIX as OVERLAY_BRIDGE_PREFIX } from './networks/overlay/vxlan.js';

export interface SwarmModeDeps {
  dataRoot: string;
  hostname: string;
  engineVersion: string;
  ncpu: number;
  memTotal: number;
  /** The default bridge's device, never chosen as the advertise address. */
  bridge: string;
  log: Logger;
  /** How task containers are made and found (their secret and config files are this module's). */
  tasks: Omit<TaskContainersDeps, 'files'>;
  /** A container's log, as `docker logs` reads it (for `docker service logs`). */
  containerLogs: (id: string, q: TaskLogQuery, signal: AbortSignal) => AsyncIterable<LogEntry>;
  networks: NetworkService;
  containerRunning: (id: string) => boolean;
  /** Where a manager tells the swarm's events. */
  publishEvent: PublishClusterEvent;
}

export interface SwarmMode {
  swarm: SwarmService;
  overlay: OverlayNetworks;
}

/** The swarm service, resumed if this node was in a swarm, and the overlay driver handed to the network service. */
export async function startSwarmMode(d: SwarmModeDeps): Promise<SwarmMode> {
  const swarm: SwarmService = new SwarmService({
    dataRoot: d.dataRoot, hostname: d.hostname, engineVersion: d.engineVersion, ncpu: d.ncpu, memTotal: d.memTotal,
    skipInterfaces: [d.bridge, `${OVERLAY_BRIDGE_PREFIX}*`], log: d.log, publishEvent: d.publishEvent,
    taskContainers: taskContainers({ ...d.tasks, files: { dir: join(d.dataRoot, 'swarm-task-files'), source: (refs) => swarm.taskFileSource(refs) } }),
    taskLogs: {
      containers: () => d.tasks.records().flatMap((r) => (r.config.Labels?.[TASK_ID_LABEL] ? [{ id: r.id, taskId: r.config.Labels[TASK_ID_LABEL] }] : [])),
      logs: d.containerLogs,
    },
  });
  // reads one missing file unless this node was in a swarm
  await swarm.start();
  const overlay = new OverlayNetworks({ networks: d.networks, log: d.log, containerRunning: d.containerRunning });
  d.networks.useOverlay(overlay);
  return { swarm, overlay };
}

/**
 * Overlay networks follow the swarm membership from now on; the first sync
 * only once the sandboxes are settled (it releases the leases of dead containers).
 */
export function followMembership(m: SwarmMode): Promise<void> {
  const member = () => m.swarm.pingState() !== 'inactive';
  m.swarm.onMembership((x) => void m.overlay.setMembership(x, member()));
  return m.overlay.setMembership(m.swarm.membership(), member());
}
