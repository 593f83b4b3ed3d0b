import { decodeAuthHeader, withUserPassword, type AuthConfig } from '../../../../api/registry-auth.js';
import { AUTH_CONFIG } from '../../../../api/body-shapes.js';
import { parsePlatform } from '../../../../oci/platform.js';
import type { Reply } from '../../reply.js';
import type { Handler, Request } from '../../request.js';
import type { Router } from '../../router.js';
import { lazyJsonLines } from '../../streams.js';
import type { DistributionBackend } from './backend.js';

/** `POST /images/create?fromImage=…` (the image routes hand it over), push and login. */
export function distributionRoutes(r: Router<Handler>, b: DistributionBackend): void {
  r.add('POST', '/images/:name+/push', async (req, reply) => {
    const tag = req.str('tag') || undefined;
    await progressStream(reply, (progress) => b.push(req.param('name'), tag, creds(req), progress));
  });

  r.add('GET', '/distribution/:name+/json', async (req, reply) => {
    reply.json(200, await b.inspect(req.param('name'), creds(req)));
  });

  r.add('POST', '/auth', async (req, reply) => {
    const body = withUserPassword((await req.json<AuthConfig>(AUTH_CONFIG)) ?? {});
    reply.json(200, await b.login(body));
  });
}

/** The pull half of `POST /images/create`. */
export async function pull(b: DistributionBackend, req: Request, reply: Reply, fromImage: string): Promise<void> {
  const platform = parsePlatform(req.str('platform') || undefined);
  const tag = req.str('tag') || undefined;
  await progressStream(reply, (progress) => b.pull(fromImage, tag, platform, creds(req), progress));
}

export function creds(req: Request): AuthConfig {
  const h = req.raw.headers['x-registry-auth'];
  return decodeAuthHeader(Array.isArray(h) ? h[0] : h);
}

/** An error before the first message is a plain HTTP error (Docker does the same); after it, an errorDetail line. */
export async function progressStream(reply: Reply, op: (progress: (m: object) => void) => Promise<void>): Promise<void> {
  const out = lazyJsonLines(reply);
  try {
    await op((m) => out.write(m));
  } catch (err) {
    if (!out.started) throw err;
    out.fail(err);
  }
  out.end();
}
