/** What berthd holds in memory for a container while it exists (never persisted). */
import { Conflict } from '../../errdefs/index.js';
import { JsonFileWriter } from '../logs/json-file.js';
import type { Task } from '../runtime/runtime.js';
import type { ContainerRecord } from './record.js';
import { ContainerStreams } from './streams.js';

export class LiveContainer {
  readonly streams = new ContainerStreams();
  task: Task | undefined;
  log: JsonFileWriter | undefined;
  /** Resolves once the current run's exit has been recorded. */
  exited: Promise<void> | undefined;
  /** The run's process is gone and its exit is being recorded (`exited` still pending). */
  exiting = false;
  oomKilled = false;
  /** Set while stop/kill/restart drive the container down, to keep restart policies off. */
  stopping = false;
  /** Set while `docker restart` stops the container: an auto-removed one is kept, as dockerd keeps it. */
  restarting = false;
  /** The restart policy's pending restart, and its current delay. */
  restartTimer: NodeJS.Timeout | undefined;
  backoffMs = 0;
}

export class LiveContainers {
  private readonly byId = new Map<string, LiveContainer>();

  get(id: string): LiveContainer {
    let l = this.byId.get(id);
    if (!l) {
      l = new LiveContainer();
      this.byId.set(id, l);
    }
    return l;
  }

  peek(id: string): LiveContainer | undefined {
    return this.byId.get(id);
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  /** The task of a running container; Conflict when it is not running (or paused, unless allowed). */
  runningTask(rec: ContainerRecord, allowPaused = false): Task {
    const task = this.peek(rec.id)?.task;
    if (!rec.state.Running || !task) throw new Conflict('container.not_running', `Container ${rec.id} is not running`);
    if (rec.state.Paused && !allowPaused) throw new Conflict('container.paused', `Container ${rec.id} is paused, unpause the container before exec`);
    return task;
  }
}
