import type { Filters } from '../../../../api/filters.js';
import type { LogLine } from '../../log-stream.js';
import type { ServiceSpecView, ServiceView, TaskView } from '../../../../api/types/index.js';

/** What the service and task routes need from the daemon (a manager's swarm). */
export interface ServicesBackend {
  createService(spec: ServiceSpecView): Promise<{ ID: string; Warnings?: string[] }>;
  listServices(filters: Filters, withStatus: boolean): Promise<ServiceView[]>;
  inspectService(ref: string, withStatus: boolean): Promise<ServiceView>;
  updateService(ref: string, version: number, spec: ServiceSpecView, o: { rollback?: boolean }): Promise<{ Warnings: string[] }>;
  removeService(ref: string): Promise<void>;
  listTasks(filters: Filters): Promise<TaskView[]>;
  inspectTask(ref: string): Promise<TaskView>;
}

/** What `docker service logs` asks for; times in nanoseconds since the epoch. */
export interface ServiceLogQuery {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** The last N lines of each task. */
  tail?: number;
  sinceNs?: bigint;
}

/** `GET /services/{id}/logs` and `GET /tasks/{id}/logs`: resolves (NotFound) before the stream starts. */
export interface ServiceLogsBackend {
  serviceLogs(sel: { service: string } | { task: string }, q: ServiceLogQuery, signal: AbortSignal): Promise<{ tty: boolean; entries: AsyncIterable<LogLine> }>;
}
