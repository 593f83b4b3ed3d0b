import type { NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest } from '../../../../api/types/index.js';
import { NETWORK_CONNECT, NETWORK_CREATE, NETWORK_DISCONNECT } from '../../../../api/body-shapes.js';
import { InvalidParameter } from '../../../../errdefs/index.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import type { EndpointsBackend, NetworksBackend } from './backend.js';

export function networkRoutes(r: Router<Handler>, b: NetworksBackend, e: EndpointsBackend): void {
  r.add('GET', '/networks', (req, reply) => reply.json(200, b.list(req.filters())));
  r.add('POST', '/networks/create', async (req, reply) => {
    const body = await req.json<NetworkCreateRequest>(NETWORK_CREATE);
    if (!body?.Name) throw new InvalidParameter('network.no_name', 'network name must not be empty');
    reply.json(201, await b.create(body));
  });
  r.add('POST', '/networks/prune', async (req, reply) => reply.json(200, await b.prune(req.filters())));
  r.add('GET', '/networks/:id', (req, reply) => reply.json(200, b.inspect(req.param('id'))));
  r.add('DELETE', '/networks/:id', async (req, reply) => {
    await b.remove(req.param('id'));
    reply.empty(204);
  });
  r.add('POST', '/networks/:id/connect', async (req, reply) => {
    const body = await req.json<NetworkConnectRequest>(NETWORK_CONNECT);
    if (!body?.Container) throw new InvalidParameter('network.no_container', 'no container given');
    await e.connect(req.param('id'), body.Container, body.EndpointConfig ?? undefined);
    reply.empty(200);
  });
  r.add('POST', '/networks/:id/disconnect', async (req, reply) => {
    const body = await req.json<NetworkDisconnectRequest>(NETWORK_DISCONNECT);
    if (!body?.Container) throw new InvalidParameter('network.no_container', 'no container given');
    await e.disconnect(req.param('id'), body.Container, !!body.Force);
    reply.empty(200);
  });
}
