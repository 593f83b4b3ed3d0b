import type { Filters } from '../../../../api/filters.js';
import type { EventMessage, VersionResponse } from '../../../../api/types/index.js';

/** `docker events`: times in nanoseconds since the epoch, and the filters as the query gave them. */
export interface EventFilter {
  since?: bigint;
  until?: bigint;
  filters: Filters;
}

/** What the system routes need from the daemon. */
export interface SystemBackend {
  version(): VersionResponse;
  info(): Promise<Record<string, unknown>>;
  /** The `Swarm` header of /_ping: `inactive`, `active/manager`, `active/worker`. */
  swarmPingState?(): string;
  /** Past events matching the filter, then live ones until `signal` aborts or `until` passes. */
  events(filter: EventFilter, signal: AbortSignal): AsyncIterable<EventMessage>;
}
