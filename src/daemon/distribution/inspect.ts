/**
 * `GET /distribution/{name}/json`: what the registry says a reference is —
 * the top manifest's descriptor and the platforms it offers (an index's
 * entries, or a single manifest's config) — without pulling anything. The
 * docker CLI asks it to pin a service's image digest and for `manifest`.
 */
import type { AuthConfig } from '../../api/registry-auth.js';
import type { DistributionInspect } from '../../api/types/index.js';
import { readAll } from '../../lib/streams.js';
import { checkImageConfig, checkIndex, checkManifest, isIndexType, type Platform } from '../../oci/index.js';
import { parseReference, withDefaultTag } from '../../oci/reference.js';
import { manifestError, mediaTypeOf, parseJson } from './pull.js';
import type { Registries } from './registries.js';

/** An image config is small; a registry sending more is not answering honestly. */
const MAX_CONFIG = 4 << 20;

export async function inspectDistribution(registries: Registries, name: string, creds: AuthConfig): Promise<DistributionInspect> {
  const ref = withDefaultTag(parseReference(name));
  const { client, value: top } = await registries.open(ref.domain, ref.path, creds, 'pull', (c) => c.manifest(ref.digest ?? ref.tag!))
    .catch((err: unknown) => { throw manifestError(ref, err); });
  const mediaType = mediaTypeOf(top);
  const Descriptor = { mediaType, digest: top.digest, size: top.bytes.length };
  if (isIndexType(mediaType)) {
    const index = checkIndex(parseJson<unknown>(top.bytes, 'index'), `index ${top.digest}`);
    return { Descriptor, Platforms: index.manifests.flatMap((m) => (m.platform ? [m.platform] : [])) };
  }
  const manifest = checkManifest(parseJson<unknown>(top.bytes, 'manifest'), `manifest ${top.digest}`);
  const config = checkImageConfig(parseJson<unknown>(await readAll(await client.blob(manifest.config.digest), MAX_CONFIG), 'image config'));
  const platform: Platform = {
    architecture: config.architecture, os: config.os,
    ...(config['os.version'] ? { 'os.version': config['os.version'] } : {}),
    ...(config.variant ? { variant: config.variant } : {}),
  };
  return { Descriptor, Platforms: [platform] };
}
