/**
 * Image archives made outside berth, for tests: layer tars written with our
 * tar writer, assembled as an OCI image layout (a directory skopeo and
 * umoci read) or as a Docker archive, with whatever defects a test needs.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { headerDefaults, TarWriter, type TarHeader } from '../../src/lib/tar/index.js';

export interface EntrySpec {
  name: string;
  type?: TarHeader['type'];
  body?: string;
  linkname?: string;
  mode?: number;
}

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function tarOf(entries: EntrySpec[], opts: { noEnd?: boolean } = {}): Promise<Buffer> {
  const w = new TarWriter();
  const parts: Buffer[] = [];
  w.stream.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise((r) => w.stream.on('end', r));
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith('/') ? 'dir' : 'file');
    const body = e.body ?? '';
    await w.add(headerDefaults({ name: e.name, type, size: type === 'file' ? Buffer.byteLength(body) : 0, linkname: e.linkname ?? '', mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644), mtime: 1_700_000_000 }), type === 'file' ? body : undefined);
  }
  if (opts.noEnd) {
    w.stream.end();
  } else await w.finish();
  await done;
  return Buffer.concat(parts);
}

export interface BuiltImage {
  /** path → bytes of every file of the layout (blobs/sha256/..., index.json, oci-layout) */
  files: Map<string, Buffer>;
  configDigest: string;
  diffIds: string[];
}

/** An OCI image layout from layer tars; `gzip` compresses the layer blobs. */
export function ociLayout(layers: Buffer[], o: { name?: string; gzip?: boolean; history?: { created_by: string; empty_layer?: boolean }[]; cmd?: string[] } = {}): BuiltImage {
  const files = new Map<string, Buffer>();
  const blob = (b: Buffer) => {
    const d = sha256(b);
    files.set(`blobs/sha256/${d.slice(7)}`, b);
    return { digest: d, size: b.length };
  };
  const diffIds = layers.map((l) => sha256(l));
  const layerDescs = layers.map((l) => ({ mediaType: `application/vnd.oci.image.layer.v1.tar${o.gzip ? '+gzip' : ''}`, ...blob(o.gzip ? gzipSync(l) : l) }));
  const config = Buffer.from(JSON.stringify({
    architecture: process.arch === 'x64' ? 'amd64' : process.arch, os: 'linux', created: '2026-01-02T03:04:05Z',
    config: { Cmd: o.cmd ?? ['sh'], Env: ['PATH=/bin'], Labels: { made: 'outside' } },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: o.history ?? layers.map((_, i) => ({ created: '2026-01-02T03:04:05Z', created_by: `step ${i}` })),
  }));
  const cfg = blob(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg }, layers: layerDescs,
  }));
  const man = blob(manifest);
  files.set('index.json', Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...man, ...(o.name ? { annotations: { 'org.opencontainers.image.ref.name': o.name } } : {}) }],
  })));
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  return { files, configDigest: cfg.digest, diffIds };
}

/** Adds a Docker manifest.json over the layout's blobs (what `docker save` 25+ writes). */
export function withDockerManifest(img: BuiltImage, tags: string[], layerPaths?: string[]): BuiltImage {
  const files = new Map(img.files);
  files.set('manifest.json', Buffer.from(JSON.stringify([{
    Config: `blobs/sha256/${img.configDigest.slice(7)}`, RepoTags: tags,
    Layers: layerPaths ?? img.diffIds.map((d) => `blobs/sha256/${d.slice(7)}`),
  }])));
  return { ...img, files };
}

/** A tar of the files, bodies byte-exact. */
export async function packBinary(files: Map<string, Buffer>): Promise<Buffer> {
  const w = new TarWriter();
  const parts: Buffer[] = [];
  w.stream.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise((r) => w.stream.on('end', r));
  for (const [name, b] of files) await w.add(headerDefaults({ name, type: 'file', size: b.length, mtime: 1_700_000_000 }), b);
  await w.finish();
  await done;
  return Buffer.concat(parts);
}

export function writeLayoutDir(img: BuiltImage, dir: string): void {
  for (const [name, b] of img.files) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), b);
  }
}
