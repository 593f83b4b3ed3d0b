import type { VolumeCreateRequest } from '../../../../api/types/index.js';
import { VOLUME_CREATE } from '../../../../api/body-shapes.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import type { VolumesBackend } from './backend.js';

export function volumeRoutes(r: Router<Handler>, b: VolumesBackend): void {
  r.add('GET', '/volumes', async (req, reply) => reply.json(200, await b.list(req.filters())));
  r.add('POST', '/volumes/create', async (req, reply) => reply.json(201, await b.create((await req.json<VolumeCreateRequest>(VOLUME_CREATE)) ?? {})));
  // before /volumes/:name: `prune` is not a volume name here
  r.add('POST', '/volumes/prune', async (req, reply) => {
    // API < 1.42 prunes every unused volume; from 1.42 only anonymous ones unless filters say all=true
    reply.json(200, await b.prune(req.filters(), !req.atLeast('1.42')));
  });
  r.add('GET', '/volumes/:name', async (req, reply) => reply.json(200, await b.inspect(req.param('name'))));
  r.add('DELETE', '/volumes/:name', async (req, reply) => {
    await b.remove(req.param('name'), req.bool('force'));
    reply.empty(204);
  });
}
