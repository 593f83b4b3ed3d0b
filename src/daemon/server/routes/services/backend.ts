import type { Filters } from '../../../../api/filters.js';
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
