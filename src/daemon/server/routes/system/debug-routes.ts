/**
 * berthd --debug only: `GET /debug/spans`, the last requests' span
 * breakdowns; `GET /debug/lazy`, which of the parts loaded on first use
 * (swarm mode, managed plugins, the registry client) this daemon has loaded,
 * and which of node's built-in modules.
 */
import type { TraceRecord } from '../../../../lib/spans.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';

/** What the route calls; implemented by the daemon's tracer. */
export interface DebugBackend {
  recent(): TraceRecord[];
  lazyParts(): string[];
  /** node's public built-in modules loaded so far. */
  builtins(): string[];
}

export function debugRoutes(r: Router<Handler>, b: DebugBackend): void {
  r.add('GET', '/debug/spans', (_req, reply) => reply.json(200, b.recent()));
  r.add('GET', '/debug/lazy', (_req, reply) => reply.json(200, { Loaded: b.lazyParts(), Builtins: b.builtins() }));
}
