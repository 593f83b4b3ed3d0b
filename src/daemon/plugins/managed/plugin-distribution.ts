/**
 * Managed plugins to and from registries, as Docker stores them there: a
 * schema2 manifest whose config blob is the plugin's config.json (media type
 * `application/vnd.docker.plugin.v1+json`, with `rootfs.diff_ids`) and one
 * gzip layer holding the rootfs.
 *
 *   push: tar(rootfs) → gzip → content store (digest, diff id) → upload layer, config, manifest
 *   pull: manifest → config (privileges checked) → layer → content store (verified) → unpacked
 *         with the image-layer checks → ManagedPlugins.install
 *
 * The blobs sit in the content store only while they travel.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { AuthConfig } from '../../../api/registry-auth.js';
import { Conflict, InvalidParameter, SystemError } from '../../../errdefs/index.js';
import { Digester, type Digest } from '../../../oci/digest.js';
import { MediaType } from '../../../oci/media-types.js';
import { familiarName, familiarString, fullString, type Reference } from '../../../oci/reference.js';
import type { ContentStore } from '../../content/content-store.js';
import type { Registries } from '../../distribution/registries.js';
import { applyLayer } from '../../layers/apply.js';
import { decompressed } from '../../layers/decompress.js';
import { checkPrivileges, MAX_CONFIG_BYTES, parsePluginConfig, privilegesOf, type PluginConfig, type PluginPrivilege } from './config.js';
import type { ManagedPlugins } from './manager.js';
import type { PluginStore } from './plugin-store.js';
import { localPluginName, remoteRef } from './plugin-names.js';

export const PLUGIN_CONFIG_MEDIA_TYPE = 'application/vnd.docker.plugin.v1+json';
const MAX_MANIFEST_BYTES = 4 << 20;

type Emit = (m: object) => void;

export interface PluginDistributionDeps {
  plugins: ManagedPlugins;
  store: PluginStore;
  content: ContentStore;
  registries: Registries;
  /** Bound of a layer, compressed and unpacked (the daemon's --max-layer-size). */
  maxLayerSize?: number;
}

interface PluginManifest {
  schemaVersion?: number;
  config?: { mediaType?: string; digest?: string; size?: number };
  layers?: { mediaType?: string; digest?: string; size?: number }[];
}

/** A registry's blob cut off once it sends more than its descriptor said. */
function atMost(source: Readable, size: number, what: string): Readable {
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > size) cb(new InvalidParameter('plugin.invalid_config', `${what}: the registry sent more than the ${size} bytes its descriptor declares`));
      else cb(null, chunk);
    },
  });
  source.on('error', (err) => cap.destroy(err));
  return source.pipe(cap);
}

function short(d: string): string {
  return d.replace(/^sha256:/, '').slice(0, 12);
}

export class PluginDistribution {
  constructor(private readonly d: PluginDistributionDeps) {}

  private async fetchConfig(ref: Reference & { tag: string }, creds: AuthConfig): Promise<{ config: PluginConfig; manifest: PluginManifest; open: Awaited<ReturnType<Registries['open']>> }> {
    const open = await this.d.registries.open(ref.domain, ref.path, creds, 'pull', (c) => c.manifest(ref.digest ?? ref.tag));
    const { bytes } = open.value as { bytes: Buffer };
    if (bytes.length > MAX_MANIFEST_BYTES) throw new InvalidParameter('plugin.invalid_config', 'plugin manifest is too large');
    let manifest: PluginManifest;
    try {
      manifest = JSON.parse(bytes.toString('utf8')) as PluginManifest;
    } catch {
      throw new InvalidParameter('plugin.invalid_config', `invalid plugin manifest for ${familiarString(ref)}`);
    }
    const cfg = manifest.config;
    if (!cfg || cfg.mediaType !== PLUGIN_CONFIG_MEDIA_TYPE || typeof cfg.digest !== 'string') {
      throw new InvalidParameter('plugin.invalid_config', `did not find plugin config for specified reference ${fullString(ref)}`);
    }
    // the registry is not trusted with sizes either: the descriptor must say one, and the bytes must match it
    if (typeof cfg.size !== 'number' || cfg.size > MAX_CONFIG_BYTES) throw new InvalidParameter('plugin.invalid_config', 'invalid plugin config: config.json is too large or has no size');
    const res = await open.client.blob(cfg.digest as Digest);
    const w = await this.d.content.ingest(atMost(res, cfg.size, 'plugin config'), { digest: cfg.digest as Digest, size: cfg.size });
    const text = (await this.d.content.readBytes(w.digest)).toString('utf8');
    if (w.created) await this.d.content.delete(w.digest).catch(() => undefined);
    return { config: parsePluginConfig(text), manifest, open };
  }

  async privileges(remote: string, creds: AuthConfig): Promise<PluginPrivilege[]> {
    return privilegesOf((await this.fetchConfig(remoteRef(remote), creds)).config);
  }

  /** `docker plugin install`: the CLI then sets KEY=VALUE and enables it with further calls. */
  /** The name a pulled plugin gets: the alias, or the remote reference; familiar, tagged. */
  localName(remote: string, name: string): string {
    return localPluginName(remote, name);
  }

  async pull(remote: string, name: string, granted: PluginPrivilege[], creds: AuthConfig, emit: Emit): Promise<void> {
    const ref = remoteRef(remote);
    const local = this.localName(remote, name);
    if (this.d.store.byName(local)) throw new Conflict('plugin.exists', `plugin ${local} already exists`);
    await this.fetch(ref, granted, creds, emit, (config, rootfs, tmp) => this.d.plugins.install(local, config, rootfs, tmp, fullString(ref)));
  }

  /** `docker plugin upgrade NAME REF`: a disabled plugin gets the new config and rootfs, keeping its id and name. */
  async upgrade(name: string, remote: string, granted: PluginPrivilege[], creds: AuthConfig, emit: Emit): Promise<void> {
    const p = this.d.store.get(name);
    if (p.Enabled) throw new Conflict('plugin.enabled', `plugin must be disabled before upgrading: plugin ${p.Name} is enabled`);
    const ref = remoteRef(remote);
    await this.fetch(ref, granted, creds, emit, (config, rootfs) => this.d.plugins.upgrade(p.Id, config, rootfs, fullString(ref)));
  }

  private async fetch(ref: Reference & { tag: string }, granted: PluginPrivilege[], creds: AuthConfig, emit: Emit,
    done: (config: PluginConfig, rootfs: string, tmp: string) => Promise<unknown>): Promise<void> {
    // before the first message: a refusal is a plain 400, not an error inside a 200 stream
    const { config, manifest, open } = await this.fetchConfig(ref, creds);
    checkPrivileges(privilegesOf(config), granted);
    emit({ status: `${ref.tag}: Pulling from ${familiarName(ref)}` });
    const tmp = await this.d.store.tempDir();
    try {
      const rootfs = join(tmp, 'rootfs');
      await mkdir(rootfs);
      const diffIds = config.rootfs?.diff_ids ?? [];
      const layers = manifest.layers ?? [];
      if (layers.length !== diffIds.length) throw new InvalidParameter('plugin.invalid_config', 'plugin config diff_ids do not match the manifest layers');
      for (const [i, l] of layers.entries()) {
        if (typeof l.digest !== 'string' || typeof l.size !== 'number') throw new InvalidParameter('plugin.invalid_config', 'a plugin layer has no digest or size');
        if (this.d.maxLayerSize && l.size > this.d.maxLayerSize) throw new InvalidParameter('plugin.invalid_config', `plugin layer is larger than the daemon's max-layer-size of ${this.d.maxLayerSize} bytes`);
        emit({ status: 'Downloading', id: short(l.digest) });
        const res = await open.client.blob(l.digest as Digest);
        const w = await this.d.content.ingest(atMost(res, l.size, `layer ${l.digest}`), { digest: l.digest as Digest, size: l.size });
        try {
          const { stream } = await decompressed(this.d.content.read(w.digest));
          // whiteouts stay files: a plugin's rootfs is one layer in practice
          const applied = await applyLayer(stream, rootfs, { whiteouts: 'oci', ...(this.d.maxLayerSize ? { maxBytes: this.d.maxLayerSize } : {}) });
          if (applied.diffId !== diffIds[i]) throw new InvalidParameter('plugin.invalid_config', `layer ${l.digest}: diff id ${applied.diffId} does not match the config's ${diffIds[i]}`);
        } finally {
          if (w.created) await this.d.content.delete(w.digest).catch(() => undefined);
        }
        emit({ status: 'Download complete', id: short(l.digest) });
      }
      await done(config, rootfs, tmp);
      emit({ status: `Digest: ${(open.value as { digest: string }).digest}` });
      emit({ status: `Status: Downloaded newer image for ${familiarString(ref)}` });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** `docker plugin push NAME`: to the registry the plugin's name points at. */
  async push(name: string, creds: AuthConfig, emit: Emit): Promise<void> {
    const p = this.d.store.get(name);
    const ref = remoteRef(p.Name);
    emit({ status: `The push refers to repository [${familiarName(ref)}]` });
    // the layer: the rootfs as a tar (GNU tar does the walking, owners numeric), gzip, into the content store
    const diff = new Digester();
    const tar = spawn('tar', ['-c', '-f', '-', '-C', this.d.store.rootfs(p.Id), '--numeric-owner', '--xattrs', '--sort=name', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tarErr = '';
    tar.stderr.on('data', (b: Buffer) => (tarErr += b.toString()));
    const exited = new Promise<number>((res) => tar.on('close', (code) => res(code ?? 1)));
    const gz = createGzip();
    const ingesting = this.d.content.ingest(gz);
    await pipeline(tar.stdout, diff, gz);
    const layer = await ingesting;
    if ((await exited) !== 0) throw new SystemError('plugin.push_failed', `error creating plugin layer: ${tarErr.trim()}`);
    const diffId = diff.digest();
    const config = Buffer.from(JSON.stringify({ ...p.Config, rootfs: { type: 'layers', diff_ids: [diffId] } }));
    const cfg = await this.d.content.put(config);
    try {
      emit({ status: 'Preparing', id: short(layer.digest) });
      // the first request picks the endpoint (https, or http for an insecure registry)
      const { client, value: hasLayer } = await this.d.registries.open(ref.domain, ref.path, creds, 'pull,push', (c) => c.hasBlob(layer.digest), { mirrors: false });
      if (!hasLayer) await client.upload(layer.digest, layer.size, this.d.content.read(layer.digest));
      emit({ status: 'Pushed', id: short(layer.digest) });
      if (!(await client.hasBlob(cfg.digest))) await client.upload(cfg.digest, cfg.size, this.d.content.read(cfg.digest));
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: MediaType.DockerManifest,
        config: { mediaType: PLUGIN_CONFIG_MEDIA_TYPE, size: cfg.size, digest: cfg.digest },
        layers: [{ mediaType: MediaType.DockerLayerGzip, size: layer.size, digest: layer.digest }],
      }));
      const digest = await client.putManifest(ref.tag, manifest, MediaType.DockerManifest);
      emit({ status: `${ref.tag}: digest: ${digest} size: ${manifest.length}` });
      emit({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: manifest.length } });
    } finally {
      if (layer.created) await this.d.content.delete(layer.digest).catch(() => undefined);
      if (cfg.created) await this.d.content.delete(cfg.digest).catch(() => undefined);
    }
  }
}
