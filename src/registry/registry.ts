/**
 * The registry's content model over a storage driver, as distribution lays
 * it out: blobs stored once by digest, linked into each repository that
 * has them; manifests are blobs too, with revision links and tag links.
 * The layout itself is written once, in storage/paths.ts.
 *
 * A blob reaches blobs/ only by a rename after its digest was checked, so
 * every blob file matches its name.
 */
import type { Readable } from 'node:stream';
import { isIndexType, isManifestType, isSha256Digest, sha256Digest, type Descriptor } from '../oci/index.js';
import { RegistryError } from './errors.js';
import { checkDigest } from './params.js';
import type { StorageDriver } from './storage/driver.js';
import { Uploads } from './uploads.js';
import { PathNotFound } from './storage/errors.js';
import {
  blobDataPath, digestsIn, layerDir, layerLinkPath, layersDir, manifestsDir, referrerPath, referrersDir, repositoryNames, revisionDir,
  revisionLinkPath, tagDir, tagLinkPath, tagsDir,
} from './storage/paths.js';

export interface RegistryOptions {
  deleteEnabled: boolean;
  maxManifestBytes: number;
}

export class Registry {
  readonly uploads: Uploads;

  constructor(readonly driver: StorageDriver, readonly opts: RegistryOptions) {
    this.uploads = new Uploads(driver);
  }

  // ---- blobs

  /** Size of a blob linked in `name`, or undefined. */
  async blobSize(name: string, digest: string): Promise<number | undefined> {
    checkDigest(digest);
    if (!(await this.driver.stat(layerLinkPath(name, digest))) && !(await this.driver.stat(revisionLinkPath(name, digest)))) return undefined;
    return (await this.driver.stat(blobDataPath(digest)))?.size;
  }

  async readBlob(digest: string, offset = 0): Promise<Readable> {
    return this.driver.reader(blobDataPath(digest), offset);
  }

  async deleteBlob(name: string, digest: string): Promise<void> {
    if (!this.opts.deleteEnabled) throw new RegistryError('UNSUPPORTED', 'deletes are disabled on this registry');
    if ((await this.blobSize(name, digest)) === undefined) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
    await this.driver.delete(layerDir(name, digest));
  }

  /** Cross-repository mount: links a blob `from` has into `name`. */
  async mount(name: string, from: string, digest: string): Promise<boolean> {
    if ((await this.blobSize(from, digest)) === undefined) return false;
    await this.driver.putContent(layerLinkPath(name, digest), digest);
    return true;
  }

  /** A mount without `from` (distribution spec 1.1): links the blob if the registry has it at all (no auth: all is readable to all). */
  async mountAnonymous(name: string, digest: string): Promise<boolean> {
    if (!(await this.driver.stat(blobDataPath(digest)))) return false;
    await this.driver.putContent(layerLinkPath(name, digest), digest);
    return true;
  }

  /** A PATCH: appends a chunk, alone on the upload. Returns the upload's size. */
  async appendUpload(name: string, uuid: string, body: Readable, start?: number, length?: number): Promise<number> {
    return this.uploads.exclusive(uuid, () => this.uploads.append(name, uuid, body, start, length));
  }

  /** A PUT: the last chunk, if any, then the commit, alone on the upload. */
  async finishUpload(name: string, uuid: string, digest: string, body: Readable, start?: number, length?: number): Promise<void> {
    checkDigest(digest);
    await this.uploads.exclusive(uuid, async () => {
      await this.uploads.append(name, uuid, body, start, length);
      await this.commitUpload(name, uuid, digest);
    });
  }

  /** A DELETE of an upload. */
  async cancelUpload(name: string, uuid: string): Promise<void> {
    await this.uploads.exclusive(uuid, async () => {
      await this.uploads.size(name, uuid);
      await this.uploads.remove(name, uuid);
    });
  }

  /** Finishes an upload: checks the digest of the bytes as stored, publishes them, links them into `name`. */
  async commitUpload(name: string, uuid: string, digest: string): Promise<void> {
    checkDigest(digest);
    const sealed = await this.uploads.seal(name, uuid);
    if (sealed.digest !== digest) {
      await this.uploads.remove(name, uuid);
      throw new RegistryError('DIGEST_INVALID', `digest mismatch: upload is ${sealed.digest}, client said ${digest}`, { digest });
    }
    if (!(await this.driver.stat(blobDataPath(digest)))) await this.driver.move(sealed.path, blobDataPath(digest));
    await this.uploads.remove(name, uuid);
    await this.driver.putContent(layerLinkPath(name, digest), digest);
  }

  // ---- manifests

  async resolve(name: string, ref: string): Promise<string | undefined> {
    if (isSha256Digest(ref)) return (await this.driver.stat(revisionLinkPath(name, ref))) ? ref : undefined;
    try {
      return (await this.driver.getContent(tagLinkPath(name, ref))).toString('utf8').trim();
    } catch (err) {
      if (err instanceof PathNotFound) return undefined;
      throw err; // storage down is not "no such tag"
    }
  }

  async getManifest(name: string, ref: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    const digest = await this.resolve(name, ref);
    if (!digest) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { name, reference: ref });
    const link = JSON.parse((await this.driver.getContent(revisionLinkPath(name, digest))).toString('utf8')) as { mediaType: string };
    return { bytes: await this.driver.getContent(blobDataPath(digest)), mediaType: link.mediaType, digest };
  }

  /** Validates and stores a manifest, tagging it when `ref` is a tag. Returns its digest and subject, if any. */
  async putManifest(name: string, ref: string, bytes: Buffer, contentType: string): Promise<{ digest: string; subject?: string }> {
    if (bytes.length > this.opts.maxManifestBytes) {
      throw new RegistryError('SIZE_INVALID', `manifest is ${bytes.length} bytes, the limit is ${this.opts.maxManifestBytes}`, undefined, 'too_large');
    }
    const digest = sha256Digest(bytes);
    if (isSha256Digest(ref) && ref !== digest) throw new RegistryError('DIGEST_INVALID', `manifest digest is ${digest}, the URL says ${ref}`);
    let m: { mediaType?: string; schemaVersion?: number; config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[]; subject?: Descriptor; artifactType?: string; annotations?: Record<string, string> };
    try {
      m = JSON.parse(bytes.toString('utf8')) as typeof m;
    } catch {
      throw new RegistryError('MANIFEST_INVALID', 'manifest is not valid JSON');
    }
    const mediaType = (contentType.split(';')[0]!.trim() || m.mediaType) ?? '';
    if (!isManifestType(mediaType) && !isIndexType(mediaType)) throw new RegistryError('MANIFEST_INVALID', `unsupported manifest media type ${JSON.stringify(mediaType)}`);
    if (m.mediaType && m.mediaType !== mediaType) throw new RegistryError('MANIFEST_INVALID', `mediaType ${m.mediaType} in the manifest, ${mediaType} in Content-Type`);
    if (m.schemaVersion !== 2) throw new RegistryError('MANIFEST_INVALID', 'schemaVersion must be 2');
    const missing: string[] = [];
    if (isIndexType(mediaType)) {
      if (!Array.isArray(m.manifests)) throw new RegistryError('MANIFEST_INVALID', 'an index needs a manifests list');
      for (const d of m.manifests) if (!isSha256Digest(String(d?.digest)) || !(await this.driver.stat(revisionLinkPath(name, d.digest)))) missing.push(String(d?.digest));
    } else {
      if (!m.config || !Array.isArray(m.layers)) throw new RegistryError('MANIFEST_INVALID', 'a manifest needs config and layers');
      for (const d of [m.config, ...m.layers]) {
        if (!isSha256Digest(String(d?.digest)) || (await this.blobSize(name, d.digest)) === undefined) missing.push(String(d?.digest));
      }
    }
    if (missing.length) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references blobs this repository does not have: ${missing.join(', ')}`, { digests: missing });
    if (!(await this.driver.stat(blobDataPath(digest)))) await this.driver.putContent(blobDataPath(digest), bytes);
    await this.driver.putContent(revisionLinkPath(name, digest), JSON.stringify({ mediaType }));
    if (!isSha256Digest(ref)) await this.driver.putContent(tagLinkPath(name, ref), digest);
    let subject: string | undefined;
    if (m.subject && isSha256Digest(String(m.subject.digest))) {
      subject = m.subject.digest;
      const desc: Descriptor = {
        mediaType, digest, size: bytes.length,
        ...(m.artifactType ?? m.config?.mediaType ? { artifactType: m.artifactType ?? m.config!.mediaType } : {}),
        ...(m.annotations ? { annotations: m.annotations } : {}),
      };
      await this.driver.putContent(referrerPath(name, subject, digest), JSON.stringify(desc));
    }
    return { digest, ...(subject ? { subject } : {}) };
  }

  async deleteManifest(name: string, ref: string): Promise<void> {
    if (!this.opts.deleteEnabled) throw new RegistryError('UNSUPPORTED', 'deletes are disabled on this registry');
    if (!isSha256Digest(ref)) {
      if (!(await this.resolve(name, ref))) throw new RegistryError('MANIFEST_UNKNOWN');
      await this.driver.delete(tagDir(name, ref));
      return;
    }
    if (!(await this.driver.stat(revisionLinkPath(name, ref)))) throw new RegistryError('MANIFEST_UNKNOWN');
    await this.driver.delete(revisionDir(name, ref));
    for (const tag of await this.tags(name)) if ((await this.resolve(name, tag)) === ref) await this.driver.delete(tagDir(name, tag));
  }

  async tags(name: string): Promise<string[]> {
    return this.driver.list(tagsDir(name));
  }

  async exists(name: string): Promise<boolean> {
    return Boolean(await this.driver.stat(manifestsDir(name))) || Boolean(await this.driver.stat(layersDir(name)));
  }

  /** Every repository with manifests, sorted. */
  async catalog(): Promise<string[]> {
    const out: string[] = [];
    for (const name of await repositoryNames(this.driver)) if (await this.driver.stat(manifestsDir(name))) out.push(name);
    return out.sort();
  }

  async referrers(name: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    const out: Descriptor[] = [];
    for (const referrer of digestsIn(await this.driver.list(referrersDir(name, digest)))) {
      const desc = JSON.parse((await this.driver.getContent(referrerPath(name, digest, referrer))).toString('utf8')) as Descriptor;
      if (!(await this.driver.stat(revisionLinkPath(name, desc.digest)))) continue; // deleted since
      if (!artifactType || desc.artifactType === artifactType) out.push(desc);
    }
    return out;
  }
}
