import type { EventMessage, VersionResponse } from '../../../../api/types/index.js';
import type { EventFilter } from '../../../events/event-bus.js';

/** What the system routes need from the daemon. */
export interface SystemBackend {
  version(): VersionResponse;
  info(): Promise<Record<string, unknown>>;
  /** Past events matching the filter, then live ones until `signal` aborts or `until` passes. */
  events(filter: EventFilter, signal: AbortSignal): AsyncIterable<EventMessage>;
}
