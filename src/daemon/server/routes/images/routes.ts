import { pipeline } from 'node:stream/promises';
import { InvalidParameter, NotImplemented } from '../../../../errdefs/index.js';
import { TarWriter } from '../../../../lib/tar/index.js';
import { importTarget } from '../../../../oci/reference.js';
import type { Reply } from '../../reply.js';
import type { Handler } from '../../request.js';
import type { Router } from '../../router.js';
import { jsonLines, lazyJsonLines } from '../../streams.js';
import type { DistributionBackend } from '../distribution/backend.js';
import { pull } from '../distribution/routes.js';
import type { ImagesBackend } from './backend.js';

export function imageRoutes(r: Router<Handler>, b: ImagesBackend, registries: DistributionBackend): void {
  r.add('GET', '/images/json', (req, reply) => {
    reply.json(200, b.list({ all: req.bool('all'), filters: req.filters(), apiAtLeast144: req.atLeast('1.44') }));
  });

  r.add('POST', '/images/create', async (req, reply) => {
    const fromSrc = req.str('fromSrc');
    if (fromSrc === undefined) {
      const fromImage = req.str('fromImage');
      if (!fromImage) throw new InvalidParameter('image.create_no_source', 'either fromImage or fromSrc is required');
      return pull(registries, req, reply, fromImage);
    }
    if (fromSrc !== '-') throw new NotImplemented('image.import_url', 'importing from a URL is not supported yet');
    const repo = req.str('repo');
    const tag = req.str('tag');
    importTarget(repo, tag); // a bad name fails before any byte is read
    const body = req.upload();
    const out = jsonLines(reply);
    try {
      const id = await b.import(body, {
        ...(repo ? { repo } : {}), ...(tag ? { tag } : {}),
        changes: req.strs('changes'), ...(req.str('message') ? { message: req.str('message')! } : {}),
      });
      out.write({ status: id });
    } catch (err) {
      out.fail(err);
    }
    out.end();
  });

  r.add('POST', '/images/load', async (req, reply) => {
    // the 200 goes out with the first message: an error before it gets its own status, as in Docker
    const out = lazyJsonLines(reply);
    try {
      await b.load(req.upload(), req.bool('quiet'), (m) => out.write(m));
    } catch (err) {
      if (!out.started) throw err;
      out.fail(err);
    }
    out.end();
  });

  // distribution registries (CNCF distribution, berth-registry) have no search API; Docker Hub's is not reachable offline
  r.add('GET', '/images/search', async (req) => {
    throw new NotImplemented('image.search_unsupported', `search is not supported: berth's registries speak the OCI distribution API, which has no search (term ${JSON.stringify(req.str('term') ?? '')}); list a registry's repositories with its /v2/_catalog`);
  });
  r.add('GET', '/images/get', async (req, reply) => save(reply, await b.save(req.strs('names'))));
  r.add('GET', '/images/:name+/get', async (req, reply) => save(reply, await b.save([req.param('name')])));

  r.add('POST', '/images/prune', async (req, reply) => reply.json(200, await b.prune(req.filters())));

  r.add('GET', '/images/:name+/history', async (req, reply) => reply.json(200, await b.history(req.param('name'))));

  r.add('GET', '/images/:name+/json', async (req, reply) => reply.json(200, await b.inspect(req.param('name'), req.atLeast('1.45'))));

  r.add('POST', '/images/:name+/tag', async (req, reply) => {
    const repo = req.str('repo');
    if (!repo) throw new InvalidParameter('image.tag_no_repo', 'repository name must have at least one component');
    await b.tag(req.param('name'), repo, req.str('tag') || undefined);
    reply.empty(201);
  });

  r.add('DELETE', '/images/:name+', async (req, reply) => {
    reply.json(200, await b.remove(req.param('name'), { force: req.bool('force'), noprune: req.bool('noprune') }));
  });
}

/** Streams a save archive; a failure after the first byte can only cut the connection. */
async function save(reply: Reply, write: (tar: TarWriter) => Promise<void>): Promise<void> {
  const tar = new TarWriter();
  const out = reply.stream(200, { 'Content-Type': 'application/x-tar' });
  const sending = pipeline(tar.stream, out);
  // a client that leaves mid-archive rejects `sending` before it is awaited below: handled now, or the
  // rejection is unhandled and ends the daemon
  sending.catch(() => {});
  try {
    await write(tar);
    await sending;
  } catch {
    tar.abort(new Error('save failed'));
    reply.abort();
    await sending.catch(() => {});
  }
}
