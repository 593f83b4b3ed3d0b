import type { BuildRequest, JSONMessage } from '../../../../api/types/index.js';
import { asBerthError, BuildStepError, InvalidParameter, NotImplemented } from '../../../../errdefs/index.js';
import type { Reply } from '../../reply.js';
import type { Handler, Request } from '../../request.js';
import type { Router } from '../../router.js';
import { lazyJsonLines } from '../../streams.js';
import type { BuildBackend } from './backend.js';
import { ExportStream, wantsFileExport } from './export-stream.js';

export function buildRoutes(r: Router<Handler>, b: BuildBackend): void {
  r.add('POST', '/build', async (req, reply) => {
    if (req.str('version') === '2') {
      throw new NotImplemented('build.buildkit', 'BuildKit is not supported by berthd: use the classic builder (DOCKER_BUILDKIT=0)');
    }
    if (req.str('remote')) throw new NotImplemented('build.remote', 'building from a remote context (git or URL) is not supported by berthd');
    const o = {
      dockerfile: req.str('dockerfile') || 'Dockerfile',
      tags: req.strs('t'),
      buildArgs: jsonParam<Record<string, string | null>>(req, 'buildargs'),
      labels: jsonParam<Record<string, string>>(req, 'labels'),
      noCache: req.bool('nocache'),
      rm: req.str('rm') === undefined ? true : req.bool('rm'),
      forceRm: req.bool('forcerm'),
      pull: req.bool('pull'),
      quiet: req.bool('q'),
      ...(req.str('target') ? { target: req.str('target')! } : {}),
      ...(req.str('networkmode') ? { networkMode: req.str('networkmode')! } : {}),
      ...secretsHeader(req),
      ...(req.str('cachefrom') ? { cacheFrom: jsonList(req, 'cachefrom') } : {}),
      ...(req.str('buildcontexts') ? { buildContexts: jsonParam<Record<string, string>>(req, 'buildcontexts') } : {}),
      // berth's CLI only (docs/build.md, "The incremental context"): entries may refer to the context store
      ...(req.raw.headers['x-berth-context'] === 'incremental' ? { incrementalContext: true } : {}),
    };
    // a client that goes away cancels the build: a running step is killed, not run to its end
    const ac = new AbortController();
    const socket = req.raw.socket;
    const gone = () => ac.abort();
    socket.once('close', gone);
    try {
      await buildAndAnswer(req, reply, b, o, ac.signal);
    } finally {
      socket.off('close', gone);
    }
  });

  // berth build's incremental context, step 1: which of these files' contents the daemon lacks
  r.add('POST', '/build/context-manifest', async (req, reply) => {
    const body = await req.json<{ Digests?: string[] }>({ struct: 'ContextManifest', fields: { Digests: { list: 'string' } } });
    reply.json(200, { Missing: await b.missingContent(body?.Digests) });
  });

  // docker builder prune: `all` changes nothing here (shared records belong to images and go with them), `until`, `keep-storage`
  r.add('POST', '/build/prune', async (req, reply) => {
    const until = req.filters().accept(['until']).until();
    const keep = req.int('keep-storage') ?? req.int('reserved-space');
    reply.json(200, await b.prune({ ...(until !== undefined ? { until } : {}), ...(keep ? { keepStorage: keep } : {}) }));
  });
}

async function buildAndAnswer(req: Request, reply: Reply, b: BuildBackend, o: BuildRequest, signal: AbortSignal): Promise<void> {
  if (wantsFileExport(req.str('outputs'))) {
    const ex = new ExportStream(reply);
    try {
      await b.build(req.upload(), o, (m) => ex.progress(m), (tar) => ex.files(tar), signal);
    } catch (err) {
      req.raw.resume();
      if (!ex.started) throw err;
      const message = asBerthError(err).message;
      ex.progress({ errorDetail: { ...(err instanceof BuildStepError ? { code: err.exitCode } : {}), message }, error: message });
    }
    ex.end();
    return;
  }
  // the 200 goes out with the first message: a Dockerfile that does not parse is a plain 400, as in Docker
  const out = lazyJsonLines(reply);
  try {
    await b.build(req.upload(), o, (m) => out.write(m), undefined, signal);
  } catch (err) {
    req.raw.resume();
    if (!out.started) throw err;
    if (err instanceof BuildStepError) {
      const m: JSONMessage = { errorDetail: { code: err.exitCode, message: err.message }, error: err.message };
      out.write(m);
    } else out.fail(err);
  }
  out.end();
}

/**
 * `berth build --secret`: the classic /build API has no BuildKit session to
 * ask the client for secrets, so berth's CLI sends them in one header,
 * base64 of a JSON object `{"id": "<base64 value>"}`; a header is never
 * logged with the query nor stored with the build.
 */
function secretsHeader(req: Request): { secrets?: Record<string, string> } {
  const raw = req.raw.headers['x-berth-build-secrets'];
  if (typeof raw !== 'string' || raw === '') return {};
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')) return { secrets: v as Record<string, string> };
  } catch {
    // reported below
  }
  throw new InvalidParameter('build.bad_param', 'invalid X-Berth-Build-Secrets header: not base64 of a JSON object of strings');
}

function jsonList(req: Request, name: string): string[] {
  try {
    const v = JSON.parse(req.str(name)!) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // reported below
  }
  throw new InvalidParameter('build.bad_param', `invalid ${name} parameter: not a JSON list of strings`);
}

function jsonParam<T extends object>(req: Request, name: string): T {
  const raw = req.str(name);
  if (!raw) return {} as T;
  try {
    const v = JSON.parse(raw) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as T;
  } catch {
    // reported below
  }
  throw new InvalidParameter('build.bad_param', `invalid ${name} parameter: not a JSON object`);
}
