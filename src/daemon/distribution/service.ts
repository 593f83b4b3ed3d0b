/**
 * What the API offers for registries: pull (`POST /images/create?fromImage`),
 * push (`POST /images/{name}/push`) and login (`POST /auth`).
 */
import type { AuthConfig } from '../../api/registry-auth.js';
import type { DistributionInspect, JSONMessage } from '../../api/types/index.js';
import { InvalidParameter, NotFound, Unauthorized } from '../../errdefs/index.js';
import { isSha256Digest } from '../../oci/digest.js';
import type { Platform } from '../../oci/image.js';
import { DEFAULT_DOMAIN, familiarName, familiarString, parseReference, type Reference } from '../../oci/reference.js';
import type { EventBus } from '../events/event-bus.js';
import { discard, TransportError } from './http.js';
import { Authorizer } from './auth.js';
import { inspectDistribution } from './inspect.js';
import { pullImage, type PullDeps } from './pull.js';
import { pushImage, type PushDeps } from './push.js';
import { RepositoryClient } from './registry-client.js';

export type DistributionDeps = PullDeps & PushDeps & { events: EventBus };

export class DistributionService {
  constructor(private readonly d: DistributionDeps) {}

  /**
   * `fromImage` is the name, `tag` a tag or a digest; neither (with `-a`)
   * pulls every tag of the repository.
   */
  async pull(fromImage: string, tag: string | undefined, platform: Platform, creds: AuthConfig, progress: (m: JSONMessage) => void): Promise<void> {
    const base = parseReference(fromImage);
    if (tag && (base.tag || base.digest)) throw new InvalidParameter('image.pull_tag', 'cannot pull with both a tag in the name and a tag parameter');
    const refs: Reference[] = [];
    if (tag) refs.push(isSha256Digest(tag) ? { ...base, digest: tag } : { ...base, tag });
    else if (base.tag || base.digest) refs.push(base);
    else {
      const { value } = await this.d.registries.open(base.domain, base.path, creds, 'pull', (c) => c.tags());
      if (value.length === 0) throw new NotFound('image.pull_no_tags', `no tags found for ${familiarName(base)}`);
      for (const t of value) refs.push({ ...base, tag: t });
    }
    let updated = false;
    for (const ref of refs) {
      const result = await pullImage(this.d, ref, { platform, creds }, progress);
      updated ||= result.updated;
      this.d.events.publish('image', 'pull', familiarString(ref), { name: familiarString(ref) });
    }
    const shown = refs.length === 1 ? familiarString(refs[0]!) : familiarName(base);
    progress({ status: `Status: ${updated ? 'Downloaded newer image' : 'Image is up to date'} for ${shown}` });
  }

  inspect(name: string, creds: AuthConfig): Promise<DistributionInspect> {
    return inspectDistribution(this.d.registries, name, creds);
  }

  /** Pushes `name` with `tag`, or every tag of that repository when `tag` is empty. */
  async push(name: string, tag: string | undefined, creds: AuthConfig, progress: (m: JSONMessage) => void): Promise<void> {
    const base = parseReference(name);
    const repo = `${base.domain}/${base.path}`;
    const tags = tag ? [tag] : base.tag ? [base.tag] : this.tagsOf(base);
    if (tags.length === 0) throw new NotFound('image.push_no_tags', `An image does not exist locally with the tag: ${familiarName(base)}`);
    const images = tags.map((t) => {
      const img = this.d.images.tryResolve(familiarString({ ...base, tag: t }));
      if (!img) throw new NotFound('image.push_not_found', `An image does not exist locally with the tag: ${familiarString({ ...base, tag: t })}`);
      return img;
    });
    progress({ status: `The push refers to repository [${repo}]` });
    for (const [i, t] of tags.entries()) {
      await pushImage(this.d, images[i]!, { ...base, tag: t }, creds, progress);
      this.d.events.publish('image', 'push', familiarString({ ...base, tag: t }), { name: familiarString({ ...base, tag: t }) });
    }
  }

  private tagsOf(base: Reference): string[] {
    const prefix = `${familiarName(base)}:`;
    return this.d.images.allTags().filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
  }

  /** `docker login`: probes /v2/ with the credentials (Basic, or a token from the realm). */
  async login(creds: AuthConfig): Promise<{ Status: string; IdentityToken: string }> {
    const registry = loginRegistry(creds.serveraddress);
    let lastErr: unknown;
    for (const { endpoint, tls } of await this.d.registries.endpoints(registry)) {
      const auth = new Authorizer(creds, tls);
      const client = new RepositoryClient(endpoint.url, '', auth, '', tls);
      try {
        const res = await client.request('GET', '');
        discard(res);
        if (res.statusCode === 200) return { Status: 'Login Succeeded', IdentityToken: auth.refreshToken ?? '' };
        throw new Unauthorized('registry.login_failed', `login attempt to ${endpoint.url}/v2/ failed with status: ${res.statusCode} ${res.statusMessage ?? ''}`.trim());
      } catch (err) {
        lastErr = err;
        if (!(err instanceof TransportError)) throw err;
      }
    }
    throw lastErr;
  }
}

/** `serveraddress` as the CLI sends it: empty or Docker Hub's v1 URL mean docker.io; a scheme and path are dropped. */
export function loginRegistry(address: string | undefined): string {
  if (!address) return DEFAULT_DOMAIN;
  const host = address.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host) ? DEFAULT_DOMAIN : host;
}
