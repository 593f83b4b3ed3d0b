import { InvalidParameter } from '../../../../errdefs/index.js';
import type { Shape } from '../../../../api/shape.js';
import type { Reply } from '../../reply.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import { creds, progressStream } from '../distribution/routes.js';
import type { PluginPrivilege } from '../../../../api/types/plugin.js';
import type { PluginRegistryBackend, PluginsBackend } from './backend.js';

const SET_BODY: Shape = { list: 'string' };
const PRIVILEGES_BODY: Shape = { list: { struct: 'PluginPrivilege', fields: { Name: 'string', Description: 'string', Value: { list: 'string' } } } };

function remoteParam(v: string | undefined): string {
  if (!v) throw new InvalidParameter('plugin.invalid_name', 'remote must not be empty');
  return v;
}

export function pluginRoutes(r: Router<Handler>, b: PluginsBackend, dist: PluginRegistryBackend): void {
  r.add('GET', '/plugins/privileges', async (req, reply) => reply.json(200, await dist.privileges(remoteParam(req.str('remote')), creds(req))));
  r.add('POST', '/plugins/pull', async (req, reply) => {
    const remote = remoteParam(req.str('remote'));
    const granted = (await req.json<PluginPrivilege[]>(PRIVILEGES_BODY)) ?? [];
    const name = req.str('name') ?? '';
    // the CLI sets KEY=VALUE and enables the plugin by the name in this header
    const named: Reply = Object.create(reply, {
      stream: { value: (status: number, headers: Record<string, string>) => reply.stream(status, { ...headers, 'Docker-Plugin-Name': dist.localName(remote, name) }) },
    });
    await progressStream(named, (emit) => dist.pull(remote, name, granted, creds(req), emit));
  });
  r.add('POST', '/plugins/:name+/push', async (req, reply) => {
    await progressStream(reply, (emit) => dist.push(req.param('name'), creds(req), emit));
  });
  r.add('POST', '/plugins/:name+/upgrade', async (req, reply) => {
    const remote = remoteParam(req.str('remote'));
    const granted = (await req.json<PluginPrivilege[]>(PRIVILEGES_BODY)) ?? [];
    await progressStream(reply, (emit) => dist.upgrade(req.param('name'), remote, granted, creds(req), emit));
  });
  r.add('GET', '/plugins', async (req, reply) => {
    const f = req.filters();
    reply.json(200, await b.list(new Map(f.keys().map((k) => [k, f.get(k)]))));
  });
  // before the `:name+` routes: these are not plugin names
  r.add('POST', '/plugins/create', async (req, reply) => {
    const name = req.str('name');
    if (!name) throw new InvalidParameter('plugin.invalid_name', 'name must not be empty');
    await b.create(name, req.upload());
    reply.empty(204);
  });
  r.add('GET', '/plugins/:name+/json', async (req, reply) => reply.json(200, await b.inspect(req.param('name'))));
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
