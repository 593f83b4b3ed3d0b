/**
 * `docker cp` over the Engine API (engine-api.md §4.1):
 *   HEAD /containers/{id}/archive?path=   200 + X-Docker-Container-Path-Stat, or 404
 *   GET  /containers/{id}/archive?path=   the stat header and a tar (top entry: the base name)
 *   PUT  /containers/{id}/archive?path=&noOverwriteDirNonDir=&copyUIDGID=   tar body, extracted into path
 */
import { pipeline } from 'node:stream/promises';
import { InvalidParameter } from '../../../../errdefs/index.js';
import { encodeStatHeader, STAT_HEADER } from '../../../../api/path-stat.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import type { ArchiveBackend } from './archive-backend.js';

function pathParam(path: string | undefined): string {
  if (!path) throw new InvalidParameter('archive.no_path', 'Path cannot be empty');
  return path;
}

export function archiveRoutes(r: Router<Handler>, b: ArchiveBackend): void {
  r.add('HEAD', '/containers/:id/archive', async (req, reply) => {
    const stat = await b.statPath(req.param('id'), pathParam(req.str('path')));
    reply.empty(200, { [STAT_HEADER]: encodeStatHeader(stat), 'Content-Type': 'application/x-tar' });
  });

  r.add('GET', '/containers/:id/archive', async (req, reply) => {
    const { stat, tar } = await b.archivePath(req.param('id'), pathParam(req.str('path')));
    const out = reply.stream(200, { [STAT_HEADER]: encodeStatHeader(stat), 'Content-Type': 'application/x-tar' });
    // a reader that goes away destroys the tar, which ends the walk and frees the container
    await pipeline(tar, out).catch(() => tar.destroy());
  });

  r.add('PUT', '/containers/:id/archive', async (req, reply) => {
    await b.extractToDir(req.param('id'), pathParam(req.str('path')), req.upload(), {
      noOverwriteDirNonDir: req.bool('noOverwriteDirNonDir'),
      copyUIDGID: req.bool('copyUIDGID'),
    });
    reply.empty(200);
  });
}
