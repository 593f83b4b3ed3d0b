import { NODE_SPEC, SWARM_INIT, SWARM_JOIN, SWARM_SPEC } from '../../../../api/body-shapes.js';
import type { NodeSpec, SwarmInitRequest, SwarmSpec } from '../../../../api/types/index.js';
import { InvalidParameter } from '../../../../errdefs/index.js';
import type { Request } from '../../request.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import type { NodesBackend, SwarmBackend } from './backend.js';

/** moby's `version` query parameter: a uint64 the update must carry. */
function version(req: Request): number {
  const raw = req.str('version') ?? '';
  if (!/^\d+$/.test(raw)) throw new InvalidParameter('swarm.invalid_version', `invalid node version '${raw}': strconv.ParseUint: parsing "${raw}": invalid syntax`);
  return Number(raw);
}

export function swarmRoutes(r: Router<Handler>, b: SwarmBackend): void {
  r.add('POST', '/swarm/init', async (req, reply) => {
    const body = (await req.json<SwarmInitRequest & { AutoLockManagers?: boolean }>(SWARM_INIT)) ?? {};
    // API < 1.25 put autolock beside the spec
    if (body.AutoLockManagers) body.Spec = { ...body.Spec, EncryptionConfig: { AutoLockManagers: true } };
    reply.json(200, await b.init(body));
  });
  r.add('POST', '/swarm/join', async (req, reply) => {
    await b.join((await req.json<{ RemoteAddrs?: string[]; JoinToken?: string; AdvertiseAddr?: string; ListenAddr?: string }>(SWARM_JOIN)) ?? {});
    reply.empty(200);
  });
  r.add('GET', '/swarm', async (_req, reply) => reply.json(200, await b.inspect()));
  r.add('POST', '/swarm/update', async (req, reply) => {
    const spec = (await req.json<SwarmSpec>(SWARM_SPEC)) ?? {};
    await b.update(spec, { version: version(req), rotateWorkerToken: req.bool('rotateWorkerToken'), rotateManagerToken: req.bool('rotateManagerToken') });
    reply.empty(200);
  });
  r.add('GET', '/swarm/unlockkey', async (_req, reply) => reply.json(200, await b.unlockKey()));
  r.add('POST', '/swarm/unlock', () => {
    throw new InvalidParameter('swarm.not_locked', 'swarm is not locked');
  });
  r.add('POST', '/swarm/leave', async (req, reply) => {
    await b.leave(req.bool('force'));
    reply.empty(200);
  });
}

export function nodeRoutes(r: Router<Handler>, b: NodesBackend): void {
  r.add('GET', '/nodes', async (req, reply) => reply.json(200, await b.listNodes(req.filters())));
  r.add('GET', '/nodes/:id', async (req, reply) => reply.json(200, await b.inspectNode(req.param('id'))));
  r.add('POST', '/nodes/:id/update', async (req, reply) => {
    const spec = (await req.json<NodeSpec>(NODE_SPEC)) ?? {};
    await b.updateNode(req.param('id'), version(req), spec);
    reply.empty(200);
  });
  r.add('DELETE', '/nodes/:id', async (req, reply) => {
    await b.removeNode(req.param('id'), req.bool('force'));
    reply.empty(200);
  });
}
