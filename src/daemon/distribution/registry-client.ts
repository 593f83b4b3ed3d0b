/**
 * One repository on one registry, spoken to over the distribution API
 * (oci-notes.md §2): manifests, blobs (ranged reads), uploads, mounts and
 * tags. Answers 401s through the Authorizer and follows blob redirects;
 * registry error bodies become typed errors.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Forbidden, NotFound, SystemError, Unauthorized } from '../../errdefs/index.js';
import { isSha256Digest, sha256Digest, type Digest } from '../../oci/digest.js';
import { MediaType } from '../../oci/media-types.js';
import { errorText, type Authorizer } from './auth.js';
import { discard, readBody, send, type TlsSettings } from './http.js';

/** What we accept for a manifest GET, dockerd's list (schema1 is refused later, with a clear error). */
export const MANIFEST_ACCEPT = [
  MediaType.OciManifest, MediaType.DockerManifest, MediaType.DockerManifestList, MediaType.OciIndex,
  MediaType.DockerManifestV1Signed, 'application/json',
].join(', ');

/** Manifests and indexes are small; anything bigger is refused (distribution's own limit is 4 MiB). */
const MANIFEST_LIMIT = 4 << 20;

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

/** A registry answered with an error status: its message, typed by status. */
export function registryError(status: number, body: Buffer, what: string): Error {
  const codes = errorCodes(body);
  const text = errorText(body) || `status ${status}`;
  const detail = codes.length ? `${codes.map(humanCode).join(', ')}: ${text}` : text;
  if (status === 401) return new Unauthorized('registry.unauthorized', `${what}: unauthorized: ${text}`);
  if (status === 403 || codes.includes('DENIED')) return new Forbidden('registry.denied', `${what}: denied: ${text}`);
  if (status === 404) return new NotFound('registry.not_found', `${what}: ${detail}`);
  return new SystemError('registry.error', `${what}: ${detail}`);
}

function errorCodes(body: Buffer): string[] {
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: { code?: string }[] };
    return (j.errors ?? []).map((e) => e.code ?? '').filter(Boolean);
  } catch {
    return [];
  }
}

/** `MANIFEST_UNKNOWN` → `manifest unknown`, as distribution's errcode prints codes. */
function humanCode(code: string): string {
  return code.toLowerCase().replace(/_/g, ' ');
}

export class RepositoryClient {
  private readonly base: URL;

  constructor(
    endpointUrl: string,
    /** The repository path inside the registry (`library/busybox`). */
    readonly name: string,
    private readonly auth: Authorizer,
    private readonly scope: string,
    private readonly tls: TlsSettings,
    /** `endpointUrl` is the API root (hosts.toml `override_path`), else `/v2` is appended. */
    overridePath = false,
  ) {
    this.base = new URL(overridePath ? `${endpointUrl}/` : `${endpointUrl}/v2/`);
  }

  get origin(): string {
    return this.base.origin;
  }

  /** A request with our credentials; a 401 is answered once, redirects (blob storage) followed. */
  async request(method: string, path: string | URL, headers: OutgoingHttpHeaders = {}, body?: Buffer | Readable): Promise<IncomingMessage> {
    let url = typeof path === 'string' ? new URL(path, this.base) : path;
    const replayable = body === undefined || Buffer.isBuffer(body);
    for (let hop = 0, authTries = 0; ; ) {
      const sameOrigin = url.origin === this.base.origin;
      const authorization = sameOrigin ? this.auth.header(this.scope) : undefined;
      const res = await send({
        method, url, tls: this.tls,
        headers: { ...headers, ...(authorization ? { Authorization: authorization } : {}) },
        ...(body !== undefined ? { body } : {}),
      });
      const status = res.statusCode ?? 0;
      if (status === 401 && sameOrigin && replayable && authTries++ === 0 && (await this.auth.answer(res, this.scope))) {
        discard(res);
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location && hop++ < 5 && replayable) {
        discard(res);
        url = new URL(res.headers.location, url);
        continue;
      }
      return res;
    }
  }

  /** Throws the registry's error for a response outside `ok`. */
  async expect(res: IncomingMessage, ok: number[], what: string): Promise<void> {
    if (ok.includes(res.statusCode ?? 0)) return;
    const body = await readBody(res, 1 << 20).catch(() => Buffer.alloc(0));
    throw registryError(res.statusCode ?? 0, body, what);
  }

  /** Gets a manifest by tag or digest; its bytes are checked against the digest asked for or announced. */
  async manifest(reference: string): Promise<FetchedManifest> {
    const res = await this.request('GET', `${this.name}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT });
    await this.expect(res, [200], `manifest for ${reference}`);
    const bytes = await readBody(res, MANIFEST_LIMIT);
    const digest = sha256Digest(bytes);
    const expected = isSha256Digest(reference) ? reference : headerDigest(res);
    if (expected && expected !== digest) {
      throw new SystemError('registry.manifest_digest', `manifest verification failed for digest ${expected}: the registry sent content with digest ${digest}`);
    }
    const mediaType = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
    return { bytes, mediaType, digest };
  }

  /** A blob's bytes from `offset` on; the response is 206 when the registry honoured the range. */
  async blob(digest: Digest, offset = 0): Promise<IncomingMessage> {
    const res = await this.request('GET', `${this.name}/blobs/${digest}`, offset > 0 ? { Range: `bytes=${offset}-` } : {});
    await this.expect(res, [200, 206], `blob ${digest}`);
    return res;
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    const res = await this.request('HEAD', `${this.name}/blobs/${digest}`);
    discard(res);
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    await this.expect(res, [200], `blob ${digest}`);
    return false;
  }

  /** Cross-repository mount; false when the registry started an ordinary upload instead (cancelled here). */
  async mount(digest: Digest, from: string): Promise<boolean> {
    const q = new URLSearchParams({ mount: digest, from });
    const res = await this.request('POST', `${this.name}/blobs/uploads/?${q}`, { 'Content-Length': 0 });
    discard(res);
    if (res.statusCode === 201) return true;
    if (res.statusCode === 202 && res.headers.location) {
      await this.request('DELETE', new URL(res.headers.location, this.base)).then(discard, () => {});
      return false;
    }
    await this.expect(res, [201, 202], `mount of ${digest}`);
    return false;
  }

  /** Uploads a blob: POST for a session (which also settles auth), then one streaming PUT with the digest. */
  async upload(digest: Digest, size: number, body: Readable): Promise<void> {
    const start = await this.request('POST', `${this.name}/blobs/uploads/`, { 'Content-Length': 0 });
    await this.expect(start, [202], `upload of ${digest}`);
    discard(start);
    const location = start.headers.location;
    if (!location) throw new SystemError('registry.error', `upload of ${digest}: the registry gave no upload location`);
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    const res = await this.request('PUT', url, { 'Content-Type': 'application/octet-stream', 'Content-Length': size }, body);
    await this.expect(res, [201, 204], `upload of ${digest}`);
    discard(res);
  }

  /**
   * Uploads a stream whose digest is known only at its end (a layer being
   * compressed as it goes): POST, one streaming PATCH, then PUT with the digest.
   */
  async uploadStream(body: Readable, digestAtEnd: () => Promise<Digest>): Promise<Digest> {
    const start = await this.request('POST', `${this.name}/blobs/uploads/`, { 'Content-Length': 0 });
    await this.expect(start, [202], 'upload');
    discard(start);
    if (!start.headers.location) throw new SystemError('registry.error', 'upload: the registry gave no upload location');
    const patch = await this.request('PATCH', new URL(start.headers.location, this.base), { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' }, body);
    await this.expect(patch, [202], 'upload');
    discard(patch);
    const digest = await digestAtEnd();
    const url = new URL(patch.headers.location ?? start.headers.location, this.base);
    url.searchParams.set('digest', digest);
    const put = await this.request('PUT', url, { 'Content-Length': 0 });
    await this.expect(put, [201, 204], `upload of ${digest}`);
    discard(put);
    return digest;
  }

  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    const res = await this.request('PUT', `${this.name}/manifests/${reference}`, { 'Content-Type': mediaType }, bytes);
    await this.expect(res, [200, 201, 202], `manifest ${reference}`);
    discard(res);
    return sha256Digest(bytes);
  }

  /** Every tag, following `Link` pagination. */
  async tags(): Promise<string[]> {
    const out: string[] = [];
    let next: URL | undefined = new URL(`${this.name}/tags/list`, this.base);
    for (let page = 0; next && page < 1000; page++) {
      const res = await this.request('GET', next);
      await this.expect(res, [200], `tags of ${this.name}`);
      const body = JSON.parse((await readBody(res, MANIFEST_LIMIT)).toString('utf8')) as { tags?: string[] | null };
      out.push(...(body.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(res.headers.link ?? ''));
      next = link ? new URL(link[1]!, this.base) : undefined;
    }
    return out;
  }
}

function headerDigest(res: IncomingMessage): Digest | undefined {
  const h = res.headers['docker-content-digest'];
  return typeof h === 'string' && isSha256Digest(h) ? h : undefined;
}
