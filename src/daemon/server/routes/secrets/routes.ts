/**
 * `/secrets/...` and `/configs/...`: the same five routes for both kinds,
 * as moby's router/swarm declares them (create 201 {ID}, remove 204,
 * update 200 with a `version` query parameter).
 */
import { CONFIG_SPEC, SECRET_SPEC } from '../../../../api/body-shapes.js';
import type { Shape } from '../../../../api/shape.js';
import { InvalidParameter } from '../../../../errdefs/index.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import type { ConfigsBackend, SecretsBackend, SwarmFilesBackend } from './backend.js';

function kindRoutes<Spec, View>(r: Router<Handler>, kind: 'secret' | 'config', shape: Shape, b: SwarmFilesBackend<Spec, View>): void {
  const base = `/${kind}s`;
  r.add('GET', base, async (req, reply) => reply.json(200, await b.list(req.filters())));
  r.add('POST', `${base}/create`, async (req, reply) => {
    const spec = (await req.json<Spec>(shape)) ?? ({} as Spec);
    reply.json(201, { ID: await b.create(spec) });
  });
  r.add('GET', `${base}/:id`, async (req, reply) => reply.json(200, await b.inspect(req.param('id'))));
  r.add('POST', `${base}/:id/update`, async (req, reply) => {
    const raw = req.str('version') ?? '';
    if (!/^\d+$/.test(raw)) throw new InvalidParameter('swarm.invalid_version', `invalid ${kind} version`);
    const spec = (await req.json<Spec>(shape)) ?? ({} as Spec);
    await b.update(req.param('id'), Number(raw), spec);
    reply.empty(200);
  });
  r.add('DELETE', `${base}/:id`, async (req, reply) => {
    await b.remove(req.param('id'));
    reply.empty(204);
  });
}

export function secretRoutes(r: Router<Handler>, b: SecretsBackend): void {
  kindRoutes(r, 'secret', SECRET_SPEC, b);
}

export function configRoutes(r: Router<Handler>, b: ConfigsBackend): void {
  kindRoutes(r, 'config', CONFIG_SPEC, b);
}
