/**
 * The registry's storage layout, written once (distribution's
 * registry/storage/paths.go is the model). Every path the registry hands a
 * storage driver is built here; nothing else spells a layout string.
 *
 *   blobs/sha256/<hex>/data                                   blobDataPath: the bytes, stored once
 *   repositories/<name>/
 *     _layers/sha256/<hex>/link                               layerLinkPath: the blob is in this repository
 *     _manifests/revisions/sha256/<hex>/link                  revisionLinkPath: {"mediaType"} of a manifest
 *     _manifests/tags/<tag>/current/link                      tagLinkPath: the digest the tag names
 *     _referrers/<subject hex>/<hex>                          referrerPath: descriptor of a referrer
 *     _uploads/<uuid>/data                                    uploadDataPath: the bytes received so far
 *     _uploads/<uuid>/startedat                               uploadStartedAtPath
 *     _uploads/<uuid>/sealed-<random>                         uploadSealedPath: the bytes while committed
 *
 * Worked example: `library/app:v1` pointing at manifest sha256:ab…, with one
 * layer sha256:cd…, is
 *
 *   blobs/sha256/ab…/data  blobs/sha256/cd…/data
 *   repositories/library/app/_manifests/revisions/sha256/ab…/link
 *   repositories/library/app/_manifests/tags/v1/current/link      → sha256:ab…
 *   repositories/library/app/_layers/sha256/cd…/link              → sha256:cd…
 *
 * Repository names nest (`library/app` is the directory `library/app`), so
 * an entry starting with `_` is layout, never part of a name. Digests are
 * turned into path parts by `sha256Hex`, which refuses anything but
 * `sha256:<64 hex>`; names, tags and upload ids are checked by the callers
 * (the request's grammar) before they get here.
 */
import { isSha256Digest, sha256Hex, type Digest } from '../../oci/index.js';
import type { StorageDriver } from './driver.js';

const REPOSITORIES = 'repositories';
const BLOBS = 'blobs/sha256';

/** Where all blobs live: its children are the hex of each digest. */
export const blobsDir = BLOBS;

/** A blob's directory (gc deletes it whole). */
export function blobDir(digest: Digest | string): string {
  return `${BLOBS}/${sha256Hex(digest)}`;
}

export function blobDataPath(digest: Digest | string): string {
  return `${blobDir(digest)}/data`;
}

/** The directory below which a repository's name nests; `''` is the root of all repositories. */
export function repositoryDir(name: string): string {
  return name ? `${REPOSITORIES}/${name}` : REPOSITORIES;
}

/** True for a directory entry that is part of the layout (`_layers`, `_manifests`, …), not of a name. */
export function isLayoutEntry(entry: string): boolean {
  return entry.startsWith('_');
}

export function layersDir(name: string): string {
  return `${repositoryDir(name)}/_layers`;
}

/** A blob's link in a repository (its directory: deleting it unlinks the blob). */
export function layerDir(name: string, digest: Digest | string): string {
  return `${layersDir(name)}/sha256/${sha256Hex(digest)}`;
}

export function layerLinkPath(name: string, digest: Digest | string): string {
  return `${layerDir(name, digest)}/link`;
}

export function manifestsDir(name: string): string {
  return `${repositoryDir(name)}/_manifests`;
}

/** Its children are the hex of each manifest revision. */
export function revisionsDir(name: string): string {
  return `${manifestsDir(name)}/revisions/sha256`;
}

export function revisionDir(name: string, digest: Digest | string): string {
  return `${revisionsDir(name)}/${sha256Hex(digest)}`;
}

export function revisionLinkPath(name: string, digest: Digest | string): string {
  return `${revisionDir(name, digest)}/link`;
}

/** Its children are the tags. */
export function tagsDir(name: string): string {
  return `${manifestsDir(name)}/tags`;
}

export function tagDir(name: string, tag: string): string {
  return `${tagsDir(name)}/${tag}`;
}

export function tagLinkPath(name: string, tag: string): string {
  return `${tagDir(name, tag)}/current/link`;
}

/** The referrers of `subject`: one file per referrer, named by its hex. */
export function referrersDir(name: string, subject: Digest | string): string {
  return `${repositoryDir(name)}/_referrers/${sha256Hex(subject)}`;
}

export function referrerPath(name: string, subject: Digest | string, digest: Digest | string): string {
  return `${referrersDir(name, subject)}/${sha256Hex(digest)}`;
}

export function uploadDir(name: string, uuid: string): string {
  return `${repositoryDir(name)}/_uploads/${uuid}`;
}

export function uploadDataPath(name: string, uuid: string): string {
  return `${uploadDir(name, uuid)}/data`;
}

export function uploadStartedAtPath(name: string, uuid: string): string {
  return `${uploadDir(name, uuid)}/startedat`;
}

/** Where an upload's bytes go while they are hashed and published, out of any writer's reach. */
export function uploadSealedPath(name: string, uuid: string, random: string): string {
  return `${uploadDir(name, uuid)}/sealed-${random}`;
}

/**
 * The digests a directory named by hex (`blobs/sha256`, `revisions/sha256`,
 * `_referrers/<subject hex>`) holds; an entry of any other shape was never
 * written by the registry and names nothing.
 */
export function digestsIn(entries: string[]): Digest[] {
  return entries.map((hex) => `sha256:${hex}`).filter(isSha256Digest);
}

/**
 * Every repository directory, nested names included (`library`,
 * `library/app`), in the driver's listing order. A directory holding only
 * other repositories is listed too: callers keep those with manifests.
 */
export async function repositoryNames(driver: Pick<StorageDriver, 'list'>): Promise<string[]> {
  const out: string[] = [];
  const walk = async (prefix: string) => {
    for (const entry of await driver.list(repositoryDir(prefix))) {
      if (isLayoutEntry(entry)) continue;
      const name = prefix ? `${prefix}/${entry}` : entry;
      out.push(name);
      await walk(name);
    }
  };
  await walk('');
  return out;
}
