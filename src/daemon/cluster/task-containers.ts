/**
 * The agent's view of this node's container service (task-agent.ts's
 * `TaskContainers`), over the daemon's own services: wire.ts builds it.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerCreateRequest, MountSpec } from '../../api/types/index.js';
import type { EventBus } from '../events/event-bus.js';
import type { ContainerRecord } from '../containers/record.js';
import { TASK_ID_LABEL } from './task-container.js';
import type { TaskContainer, TaskContainers } from './task-agent.js';
import type { TaskFileRefs, TaskFileSource } from './task-file-source.js';
import { cleanupTaskFiles, materializeTaskFiles, resolveTaskFiles } from './task-files.js';

export interface TaskContainersDeps {
  /** Resolves once the containers' states are restored after a daemon start. */
  restored: Promise<void>;
  records: () => ContainerRecord[];
  hasImage: (ref: string) => boolean;
  pull: (ref: string) => Promise<void>;
  create: (req: ContainerCreateRequest, name: string) => Promise<{ Id: string }>;
  start: (id: string) => Promise<void>;
  stop: (id: string) => Promise<void>;
  remove: (id: string) => Promise<void>;
  events: Pick<EventBus, 'subscribe'>;
  /** Secrets and configs: each task's tmpfs goes under `dir/<task id>`; `source` fetches their data (SwarmService.taskFileSource). */
  files: { dir: string; source: (refs: TaskFileRefs) => Promise<TaskFileSource> };
}

const ZERO = '0001-01-01T00:00:00Z';

export function taskContainers(d: TaskContainersDeps): TaskContainers {
  return {
    ready: () => d.restored,
    list: () => d.records().flatMap((r): TaskContainer[] => {
      const taskId = r.config.Labels?.[TASK_ID_LABEL];
      if (!taskId) return [];
      return [{
        id: r.id, taskId, running: r.state.Running, started: r.state.StartedAt !== ZERO && !!r.state.StartedAt, exitCode: r.state.ExitCode, pid: r.state.Pid,
        ...(r.state.Health ? { health: r.state.Health.Status } : {}),
      }];
    }),
    async ensureImage(ref) {
      if (d.hasImage(ref)) return ref;
      // a digest the CLI pinned: the tag this node has is used as is (no registry to compare with here)
      const unpinned = ref.replace(/@sha256:[0-9a-f]{64}$/, '');
      if (unpinned !== ref && d.hasImage(unpinned)) return unpinned;
      await d.pull(ref);
      return ref;
    },
    async prepareFiles(t) {
      const refs = t.spec.ContainerSpec ?? {};
      if (!refs.Secrets?.length && !refs.Configs?.length) return [];
      const files = await resolveTaskFiles(refs, await d.files.source(refs));
      const made = await materializeTaskFiles(join(d.files.dir, t.id), files);
      return made.mounts.map((m): MountSpec => ({ Type: 'bind', Source: m.source!, Target: m.destination, ReadOnly: true }));
    },
    // the tmpfs is unmounted only once its container is gone (a bind keeps it busy otherwise)
    cleanupFiles: (taskId) => cleanupTaskFiles(join(d.files.dir, taskId)).then(() => rm(join(d.files.dir, taskId), { recursive: true, force: true })),
    create: async (req, name) => (await d.create(req, name)).Id,
    start: (id) => d.start(id),
    stop: (id) => d.stop(id),
    remove: (id) => d.remove(id),
    onExit(fn) {
      // any container's exit: the agent's pass matches it to a task by the record's label
      const { unsubscribe } = d.events.subscribe((e) => {
        // a health change moves a task from starting to running, or fails it
        if (e.Type === 'container' && (e.Action === 'die' || e.Action.startsWith('health_status'))) fn(e.Actor.ID);
      });
      return unsubscribe;
    },
  };
}
