/** Routes of a container's filesystem: changes (`diff`), export, commit. */
import { pipeline } from 'node:stream/promises';
import { CONTAINER_CONFIG } from '../../../../api/body-shapes.js';
import { strSlices } from '../../../../api/shape.js';
import type { ContainerConfig } from '../../../../api/types/index.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import type { FilesystemBackend } from './filesystem-backend.js';

export function filesystemRoutes(r: Router<Handler>, b: FilesystemBackend): void {
  r.add('GET', '/containers/:id/changes', async (req, reply) => reply.json(200, await b.changes(req.param('id'))));

  r.add('GET', '/containers/:id/export', async (req, reply) => {
    const tar = await b.export(req.param('id'));
    const out = reply.stream(200, { 'Content-Type': 'application/x-tar' });
    await pipeline(tar, out).catch(() => reply.abort());
  });

  r.add('POST', '/commit', async (req, reply) => {
    const config = await req.json<Partial<ContainerConfig>>(CONTAINER_CONFIG);
    const opt = (name: string) => req.str(name) || undefined;
    const id = await b.commit({
      container: req.str('container') ?? '',
      ...(opt('repo') ? { repo: opt('repo')! } : {}),
      ...(opt('tag') ? { tag: opt('tag')! } : {}),
      ...(opt('comment') ? { comment: opt('comment')! } : {}),
      ...(opt('author') ? { author: opt('author')! } : {}),
      changes: req.strs('changes').flatMap((c) => c.split('\n')).filter((c) => c.trim()),
      pause: req.bool('pause', true),
      ...(config ? { config: strSlices(config, ['Cmd', 'Entrypoint', 'Shell']) } : {}),
    });
    reply.json(201, { Id: id });
  });
}
