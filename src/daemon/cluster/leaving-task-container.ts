/**
 * Whether a container that still holds an address on an overlay network is
 * a task container on its way out: its task no longer meant to run (desired
 * shutdown or remove), its service removed, or its task record already
 * reaped. `docker stack rm` removes a stack's networks right after its
 * services, while the agents are still stopping the tasks; swarmkit lets
 * that removal through (it counts only tasks meant to run), so berth's
 * network removal waits for such containers to leave instead of refusing.
 *
 * A task container is known by the name the agent gives it,
 * `<service>.<slot>.<task id>` (containerName() in service-records.ts), or
 * by the container id its task reported.
 */
import { SERVICES_PREFIX, stateRank, TASKS_PREFIX, type TaskRecord } from './service-records.js';
import type { KeyValueStore } from './store.js';

const TASK_NAME = /^[^.]+\.[^.]+\.([0-9a-z]{25})$/;

export async function isLeavingTaskContainer(kv: Pick<KeyValueStore, 'list'>, c: { containerId: string; name?: string }): Promise<boolean> {
  const [tasks, services] = await Promise.all([kv.list(TASKS_PREFIX), kv.list(SERVICES_PREFIX)]);
  const records = tasks.items.map((x) => JSON.parse(x.value) as TaskRecord);
  const byName = TASK_NAME.exec(c.name?.replace(/^\//, '') ?? '')?.[1];
  const task = records.find((t) => t.status.containerStatus?.containerId === c.containerId || t.id === byName);
  if (!task) return byName !== undefined; // named as a task whose record is gone: reaped
  const serviceAlive = services.items.some((x) => x.key === `${SERVICES_PREFIX}${task.serviceId}`);
  return !serviceAlive || stateRank(task.desiredState) > stateRank('running');
}
