import type { Router } from '../../router.js';
import type { Handler } from '../../request.js';
import { jsonLines } from '../../streams.js';
import { parseTimestamp } from '../../time-param.js';
import type { SystemBackend } from './backend.js';

const PING_HEADERS = {
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
  'Builder-Version': '1',
};

export function systemRoutes(r: Router<Handler>, b: SystemBackend): void {
  const ping = () => ({ ...PING_HEADERS, Swarm: b.swarmPingState?.() ?? 'inactive' });
  r.add('GET', '/_ping', (_req, reply) => reply.text(200, 'OK', 'text/plain; charset=utf-8', ping()));
  r.add('HEAD', '/_ping', (_req, reply) => reply.empty(200, { ...ping(), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0 }));
  r.add('GET', '/version', (_req, reply) => reply.json(200, b.version()));
  r.add('GET', '/info', async (_req, reply) => reply.json(200, await b.info()));
  r.add('GET', '/events', async (req, reply) => {
    const filters = req.filters();
    const since = req.str('since');
    const until = req.str('until');
    const filter = {
      filters,
      ...(since ? { since: parseTimestamp(since) } : {}),
      ...(until ? { until: parseTimestamp(until) } : {}),
    };
    const out = jsonLines(reply);
    for await (const e of b.events(filter, out.signal)) out.write(e);
    out.end();
  });
}
