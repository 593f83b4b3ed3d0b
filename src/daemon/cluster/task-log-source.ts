/**
 * The log lines of this node's task containers, for `docker service logs`:
 * what a node answers a manager's `/v1/task-logs` (task-log-protocol.ts)
 * and what a manager reads of its own tasks.
 *
 *   for await (const { taskId, entry } of nodeTaskLogs(['t1', 't2'], { follow: false, stdout: true, stderr: true, tail: 1 }, signal, deps)) ...
 *
 * Each container is read as `docker logs` reads it (tail per task, as
 * swarmkit's agent does); the tasks' lines are merged as they come. A task
 * whose container is not (or no longer) on this node gives nothing.
 */
import { mergeAsync } from '../../lib/merge-async.js';
import type { LogEntry } from '../logs/entry.js';

export interface TaskLogQuery {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** The last N lines of each task. */
  tail?: number;
  sinceNs?: bigint;
}

export interface TaskLogLine {
  taskId: string;
  entry: LogEntry;
}

export interface TaskLogReader {
  /** This node's task containers. */
  containers(): { id: string; taskId: string }[];
  /** A container's log, as `docker logs` reads it, until `signal` aborts (follow). */
  logs(containerId: string, q: TaskLogQuery, signal: AbortSignal): AsyncIterable<LogEntry>;
}

export function nodeTaskLogs(taskIds: string[], q: TaskLogQuery, signal: AbortSignal, d: TaskLogReader): AsyncIterable<TaskLogLine> {
  const wanted = new Set(taskIds);
  const sources = d.containers().filter((c) => wanted.has(c.taskId)).map((c) => tagged(c.taskId, d.logs(c.id, q, signal)));
  return mergeAsync(sources);
}

async function* tagged(taskId: string, entries: AsyncIterable<LogEntry>): AsyncGenerator<TaskLogLine> {
  for await (const entry of entries) yield { taskId, entry };
}
