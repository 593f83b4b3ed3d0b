/**
 * What an image archive (`docker save` output, or an OCI image layout as a
 * tar) contains, worked out from its index files once every file of the
 * archive is known. Pure apart from the `json` reader it is given.
 *
 * Two formats, both accepted:
 *   Docker archive  manifest.json  [{ Config, RepoTags, Layers }] with paths inside the tar
 *                   (legacy `<v1id>/layer.tar` + `<hex>.json`, or Docker 25+'s `blobs/sha256/<hex>`)
 *   OCI layout      index.json → manifests (or nested indexes) → config and layer blobs
 * When both are present (Docker 25+), manifest.json decides, as in Docker.
 */
import { InvalidParameter } from '../../errdefs/index.js';
import { checkIndex, checkManifest, hostArchitecture, isIndexType, type Descriptor, type Digest, type Index, type Manifest } from '../../oci/index.js';
import { familiarString, parseReference, withDefaultTag } from '../../oci/reference.js';

/** A regular file of the archive, stored in the content store under `digest`. */
export interface ArchiveFile {
  digest: Digest;
  size: number;
}

export interface ArchiveIndex {
  /** By path inside the archive (symlinks already followed). */
  byPath: Map<string, ArchiveFile>;
  /** By content digest (as computed while storing). */
  byDigest: Map<Digest, ArchiveFile>;
}

/** One image to create: its config and layer blobs (base first), and the names to tag. */
export interface ImagePlan {
  config: Digest;
  layers: { blob: Digest; mediaType?: string }[];
  /** Familiar references (`busybox:latest`). */
  tags: string[];
}

export const OCI_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

export class InvalidArchiveError extends InvalidParameter {
  constructor(message: string) {
    super('image.load_invalid_archive', `invalid image archive: ${message}`);
  }
}

export class MissingBlobError extends InvalidParameter {
  constructor(what: string) {
    super('image.load_missing_blob', `invalid image archive: ${what} is not in the archive`);
  }
}

interface DockerManifestEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

export type JsonReader = (file: ArchiveFile) => Promise<unknown>;

export async function planArchive(index: ArchiveIndex, json: JsonReader): Promise<ImagePlan[]> {
  const manifest = index.byPath.get('manifest.json');
  if (manifest) return planDockerArchive(index, await json(manifest));
  const ociIndex = index.byPath.get('index.json');
  if (ociIndex) return planOciLayout(index, await json(ociIndex), json);
  throw new InvalidArchiveError('neither manifest.json nor index.json found');
}

function fileAt(index: ArchiveIndex, path: unknown, what: string): ArchiveFile {
  if (typeof path !== 'string' || path === '') throw new InvalidArchiveError(`${what} has no path`);
  const f = index.byPath.get(path.replace(/^\.\//, ''));
  if (!f) throw new MissingBlobError(`${what} ${path}`);
  return f;
}

/** A `blobs/sha256/<hex>` path must hold exactly that digest. */
function checkBlobPath(path: string, f: ArchiveFile): void {
  const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
  if (m && `sha256:${m[1]}` !== f.digest) {
    throw new InvalidParameter('content.digest_mismatch', `invalid image archive: ${path} has digest ${f.digest}`);
  }
}

function planDockerArchive(index: ArchiveIndex, parsed: unknown): ImagePlan[] {
  if (!Array.isArray(parsed)) throw new InvalidArchiveError('manifest.json is not a list');
  return (parsed as DockerManifestEntry[]).map((entry, i) => {
    const config = fileAt(index, entry.Config, `config of image ${i}`);
    checkBlobPath(String(entry.Config), config);
    // the legacy format names configs `<hex>.json`: that name is a digest too
    const legacy = /^([a-f0-9]{64})\.json$/.exec(String(entry.Config));
    if (legacy && `sha256:${legacy[1]}` !== config.digest) {
      throw new InvalidParameter('content.digest_mismatch', `invalid image archive: ${String(entry.Config)} has digest ${config.digest}`);
    }
    if (!Array.isArray(entry.Layers)) throw new InvalidArchiveError(`image ${i} has no Layers list`);
    const layers = entry.Layers.map((p: unknown, j) => {
      const f = fileAt(index, p, `layer ${j} of image ${i}`);
      checkBlobPath(String(p), f);
      return { blob: f.digest };
    });
    const tags = Array.isArray(entry.RepoTags) ? entry.RepoTags.map((t) => normalizeTag(String(t))) : [];
    return { config: config.digest, layers, tags };
  });
}

async function planOciLayout(index: ArchiveIndex, parsed: unknown, json: JsonReader): Promise<ImagePlan[]> {
  for (const [path, f] of index.byPath) checkBlobPath(path, f);
  const plans: ImagePlan[] = [];
  if (!(parsed as Partial<Index> | null)?.manifests) throw new InvalidArchiveError('index.json has no manifests');
  const root = checkIndex(parsed, 'invalid image archive: index.json');
  for (const desc of root.manifests) {
    const name = nameOf(desc);
    const manifest = await resolveManifest(index, desc, json, 0);
    const existing = plans.find((p) => p.config === manifest.config.digest);
    if (existing) {
      if (name && !existing.tags.includes(name)) existing.tags.push(name);
      continue;
    }
    plans.push({
      config: blobOf(index, manifest.config, 'config').digest,
      layers: manifest.layers.map((l, j) => ({ blob: blobOf(index, l, `layer ${j}`).digest, mediaType: l.mediaType })),
      tags: name ? [name] : [],
    });
  }
  return plans;
}

function blobOf(index: ArchiveIndex, desc: Descriptor, what: string): ArchiveFile {
  const f = index.byDigest.get(desc.digest);
  if (!f) throw new MissingBlobError(`${what} ${desc.digest}`);
  if (desc.size !== undefined && f.size !== desc.size) {
    throw new InvalidParameter('content.size_mismatch', `invalid image archive: ${what} ${desc.digest} has ${f.size} bytes, expected ${desc.size}`);
  }
  return f;
}

async function resolveManifest(index: ArchiveIndex, desc: Descriptor, json: JsonReader, depth: number): Promise<Manifest> {
  if (depth > 4) throw new InvalidArchiveError('indexes nested too deep');
  const body = await json(blobOf(index, desc, 'manifest'));
  const obj = body as Partial<Manifest & Index>;
  if (isIndexType(desc.mediaType) || Array.isArray(obj.manifests)) {
    const pick = pickPlatform(checkIndex(body, `invalid image archive: index ${desc.digest}`).manifests);
    if (!pick) throw new InvalidArchiveError(`no manifest for linux/${hostArchitecture()} in ${desc.digest}`);
    return resolveManifest(index, pick, json, depth + 1);
  }
  if (!obj.config || !Array.isArray(obj.layers)) throw new InvalidArchiveError(`manifest ${desc.digest} has no config or layers`);
  return checkManifest(obj, `invalid image archive: manifest ${desc.digest}`);
}

/** The entry for this host (attestations and other platforms skipped); a lone entry without platform also fits. */
export function pickPlatform(manifests: Descriptor[]): Descriptor | undefined {
  const arch = hostArchitecture();
  const usable = manifests.filter((m) => m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest');
  return usable.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch) ?? usable.find((m) => !m.platform);
}

/** The name an index entry carries: containerd's full name, else a ref.name that is a whole reference. */
function nameOf(desc: Descriptor): string | undefined {
  const full = desc.annotations?.[CONTAINERD_NAME_ANNOTATION];
  if (full) return normalizeTag(full);
  const ref = desc.annotations?.[OCI_NAME_ANNOTATION];
  if (ref && /[:/]/.test(ref)) {
    try {
      return normalizeTag(ref);
    } catch {
      return undefined; // a bare tag such as `latest` names no repository
    }
  }
  return undefined;
}

function normalizeTag(ref: string): string {
  const parsed = withDefaultTag(parseReference(ref));
  if (parsed.digest) throw new InvalidArchiveError(`cannot tag with a digest reference ${ref}`);
  return familiarString(parsed);
}
