import { SERVICE_SPEC } from '../../../../api/body-shapes.js';
import type { ServiceSpecView } from '../../../../api/types/index.js';
import { InvalidParameter } from '../../../../errdefs/index.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import type { ServicesBackend } from './backend.js';

export function serviceRoutes(r: Router<Handler>, b: ServicesBackend): void {
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
  r.add('GET', '/services/:id/logs', () => {
    throw new InvalidParameter('swarm.unsupported_option', 'service logs are not supported by berth yet');
  });
  r.add('GET', '/tasks', async (req, reply) => reply.json(200, await b.listTasks(req.filters())));
  r.add('GET', '/tasks/:id', async (req, reply) => reply.json(200, await b.inspectTask(req.param('id'))));
}
