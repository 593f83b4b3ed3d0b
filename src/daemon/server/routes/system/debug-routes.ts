/** `GET /debug/spans`: the last requests' span breakdowns, only when berthd runs with --debug. */
import type { TraceRecord } from '../../../../lib/spans.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';

/** What the route calls; implemented by the daemon's tracer. */
export interface SpansBackend {
  recent(): TraceRecord[];
}

export function debugRoutes(r: Router<Handler>, b: SpansBackend): void {
  r.add('GET', '/debug/spans', (_req, reply) => reply.json(200, b.recent()));
}
