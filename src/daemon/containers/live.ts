/** What berthd holds in memory for a container while it exists (never persisted). */
import { JsonFileWriter } from '../logs/json-file.js';
import type { Task } from '../runtime/runtime.js';
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
}
