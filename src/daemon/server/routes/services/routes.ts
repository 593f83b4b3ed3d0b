import { SERVICE_SPEC } from '../../../../api/body-shapes.js';
import type { ServiceSpecView } from '../../../../api/types/index.js';
import { InvalidParameter } from '../../../../errdefs/index.js';
import type { Router } from '../../router.js';
import { writeLogStream } from '../../log-stream.js';
import type { Reply } from '../../reply.js';
import type { Handler, Request } from '../../request.js';
import { parseTimestamp } from '../../time-param.js';
import type { ServiceLogQuery, ServiceLogsBackend, ServicesBackend } from './backend.js';

const RAW = 'application/vnd.docker.raw-stream';
const MUX = 'application/vnd.docker.multiplexed-stream';

/** moby's swarmLogs: the arguments are checked before the stream starts, since a 200 goes out with it. */
function logQuery(req: Request): ServiceLogQuery {
  const stdout = req.bool('stdout');
  const stderr = req.bool('stderr');
  if (!stdout && !stderr) throw new InvalidParameter('logs.no_stream', 'Bad parameters: you must choose at least one stream');
  const tail = req.str('tail');
  let tailN: number | undefined;
  if (tail !== undefined && tail !== '' && tail !== 'all') {
    if (!/^[+-]?\d+$/.test(tail)) throw new InvalidParameter('logs.invalid_tail', `tail must be an integer or "all": strconv.Atoi: parsing "${tail}": invalid syntax`);
    tailN = Number(tail);
    if (tailN < 0) throw new InvalidParameter('logs.invalid_tail', 'negative tail values not supported');
  }
  const since = req.str('since');
  return {
    follow: req.bool('follow'), stdout, stderr,
    ...(tailN !== undefined ? { tail: tailN } : {}),
    ...(since && since !== '0' ? { sinceNs: parseTimestamp(since) } : {}),
  };
}

export function serviceRoutes(r: Router<Handler>, b: ServicesBackend, logs: ServiceLogsBackend): void {
  const serveLogs = async (req: Request, reply: Reply, sel: { service: string } | { task: string }) => {
    const query = logQuery(req);
    const ac = new AbortController();
    const { tty, entries } = await logs.serviceLogs(sel, query, ac.signal);
    const out = reply.stream(200, { 'Content-Type': tty || !req.atLeast('1.42') ? RAW : MUX });
    out.once('close', () => ac.abort());
    await writeLogStream(out, entries, { tty, timestamps: req.bool('timestamps'), details: req.bool('details') }, ac.signal);
  };
  r.add('POST', '/services/create', async (req, reply) => {
    const spec = (await req.json<ServiceSpecView>(SERVICE_SPEC)) ?? {};
    reply.json(201, await b.createService(spec));
  });
  r.add('GET', '/services', async (req, reply) => reply.json(200, await b.listServices(req.filters(), req.bool('status'))));
  r.add('GET', '/services/:id', async (req, reply) => reply.json(200, await b.inspectService(req.param('id'), req.bool('status'))));
  r.add('POST', '/services/:id/update', async (req, reply) => {
    const raw = req.str('version') ?? '';
    if (!/^\d+$/.test(raw)) throw new InvalidParameter('swarm.invalid_version', `invalid service version '${raw}': strconv.ParseUint: parsing "${raw}": invalid syntax`);
    const spec = (await req.json<ServiceSpecView>(SERVICE_SPEC)) ?? {};
    reply.json(200, await b.updateService(req.param('id'), Number(raw), spec, { rollback: req.str('rollback') === 'previous' }));
  });
  r.add('DELETE', '/services/:id', async (req, reply) => {
    await b.removeService(req.param('id'));
    reply.empty(200);
  });
  r.add('GET', '/services/:id/logs', (req, reply) => serveLogs(req, reply, { service: req.param('id') }));
  r.add('GET', '/tasks/:id/logs', (req, reply) => serveLogs(req, reply, { task: req.param('id') }));
  r.add('GET', '/tasks', async (req, reply) => reply.json(200, await b.listTasks(req.filters())));
  r.add('GET', '/tasks/:id', async (req, reply) => reply.json(200, await b.inspectTask(req.param('id'))));
}
