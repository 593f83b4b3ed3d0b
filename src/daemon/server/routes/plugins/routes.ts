import { InvalidParameter } from '../../../../errdefs/index.js';
import type { Shape } from '../../../../api/shape.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import type { PluginsBackend } from './backend.js';

const SET_BODY: Shape = { list: 'string' };

export function pluginRoutes(r: Router<Handler>, b: PluginsBackend): void {
  r.add('GET', '/plugins', async (req, reply) => {
    const f = req.filters();
    reply.json(200, b.list(new Map(f.keys().map((k) => [k, f.get(k)]))));
  });
  // before the `:name+` routes: these are not plugin names
  r.add('POST', '/plugins/create', async (req, reply) => {
    const name = req.str('name');
    if (!name) throw new InvalidParameter('plugin.invalid_name', 'name must not be empty');
    await b.create(name, req.upload());
    reply.empty(204);
  });
  r.add('GET', '/plugins/:name+/json', async (req, reply) => reply.json(200, b.inspect(req.param('name'))));
  r.add('POST', '/plugins/:name+/enable', async (req, reply) => {
    const t = req.int('timeout');
    await b.enable(req.param('name'), t);
    reply.empty(200);
  });
  r.add('POST', '/plugins/:name+/disable', async (req, reply) => {
    await b.disable(req.param('name'), req.bool('force'));
    reply.empty(200);
  });
  r.add('POST', '/plugins/:name+/set', async (req, reply) => {
    await b.set(req.param('name'), (await req.json<string[]>(SET_BODY)) ?? []);
    reply.empty(204);
  });
  r.add('DELETE', '/plugins/:name+', async (req, reply) => {
    await b.remove(req.param('name'), req.bool('force'));
    reply.empty(200);
  });
}
