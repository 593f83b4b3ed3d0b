/**
 * The agent's view of this node's container service (task-agent.ts's
 * `TaskContainers`), over the daemon's own services: wire.ts builds it.
 */
import type { ContainerCreateRequest } from '../../api/types/index.js';
import type { EventBus } from '../events/event-bus.js';
import type { ContainerRecord } from '../containers/record.js';
import { TASK_ID_LABEL } from './task-container.js';
import type { TaskContainer, TaskContainers } from './task-agent.js';

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
}

const ZERO = '0001-01-01T00:00:00Z';

export function taskContainers(d: TaskContainersDeps): TaskContainers {
  return {
    ready: () => d.restored,
    list: () => d.records().flatMap((r): TaskContainer[] => {
      const taskId = r.config.Labels?.[TASK_ID_LABEL];
      if (!taskId) return [];
      return [{ id: r.id, taskId, running: r.state.Running, started: r.state.StartedAt !== ZERO && !!r.state.StartedAt, exitCode: r.state.ExitCode, pid: r.state.Pid }];
    }),
    async ensureImage(ref) {
      if (d.hasImage(ref)) return ref;
      // a digest the CLI pinned: the tag this node has is used as is (no registry to compare with here)
      const unpinned = ref.replace(/@sha256:[0-9a-f]{64}$/, '');
      if (unpinned !== ref && d.hasImage(unpinned)) return unpinned;
      await d.pull(ref);
      return ref;
    },
    create: async (req, name) => (await d.create(req, name)).Id,
    start: (id) => d.start(id),
    stop: (id) => d.stop(id),
    remove: (id) => d.remove(id),
    onExit(fn) {
      // any container's exit: the agent's pass matches it to a task by the record's label
      const { unsubscribe } = d.events.subscribe((e) => {
        if (e.Type === 'container' && e.Action === 'die') fn(e.Actor.ID);
      });
      return unsubscribe;
    },
  };
}
