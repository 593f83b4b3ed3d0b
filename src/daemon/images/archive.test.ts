import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256Digest, type Digest } from '../../oci/index.js';
import { planArchive, type ArchiveIndex } from './archive-manifest.js';
import { imageHistory } from './history.js';
import { referenceMatches, selectImages, shownReferences } from './list-filter.js';
import { Filters } from '../../api/filters.js';
import { namesFor, planSave } from './save.js';

function indexOf(files: Record<string, string>): { index: ArchiveIndex; json: (f: { digest: Digest }) => Promise<unknown> } {
  const index: ArchiveIndex = { byPath: new Map(), byDigest: new Map() };
  const bodies = new Map<Digest, string>();
  for (const [path, body] of Object.entries(files)) {
    const f = { digest: sha256Digest(body), size: Buffer.byteLength(body) };
    index.byPath.set(path, f);
    index.byDigest.set(f.digest, f);
    bodies.set(f.digest, body);
  }
  return { index, json: async (f) => JSON.parse(bodies.get(f.digest)!) };
}

test('save writes a layout whose manifest.json and index.json agree, and load plans it back', async () => {
  const config = Buffer.from('{"rootfs":{"type":"layers","diff_ids":[]}}');
  const id = sha256Digest(config);
  const layer = { diffId: sha256Digest('layer'), size: 5, blob: sha256Digest('layer'), compressed: false };
  const files = planSave([{ id, names: ['busybox:latest', 'localhost:5000/x:1'], config, layers: [layer] }]);
  assert.deepEqual(files.map((f) => f.path).slice(-4), ['index.json', 'manifest.json', 'oci-layout', 'repositories']);
  const text = (p: string) => files.find((f) => f.path === p)!.data!.toString();
  const index = JSON.parse(text('index.json')) as { manifests: { annotations: Record<string, string> }[] };
  assert.deepEqual(index.manifests.map((m) => m.annotations['io.containerd.image.name']), ['docker.io/library/busybox:latest', 'localhost:5000/x:1']);
  assert.deepEqual(JSON.parse(text('repositories')), { busybox: { latest: layer.diffId.slice(7) }, 'localhost:5000/x': { '1': layer.diffId.slice(7) } });

  // what load makes of it (layers as their own digests)
  const all: Record<string, string> = {};
  for (const f of files) all[f.path] = f.data ? f.data.toString('latin1') : 'layer';
  const { index: idx, json } = indexOf(all);
  const plans = await planArchive(idx, json);
  assert.deepEqual(plans, [{ config: id, layers: [{ blob: layer.diffId }], tags: ['busybox:latest', 'localhost:5000/x:1'] }]);
  delete all['manifest.json'];
  const oci = indexOf(all);
  const ociPlans = await planArchive(oci.index, oci.json);
  assert.deepEqual(ociPlans[0]!.tags, ['busybox:latest', 'localhost:5000/x:1']);
});

test('load refuses archives with no index, missing blobs and mislabelled blob paths', async () => {
  await assert.rejects(planArchive(indexOf({ 'x.json': '{}' }).index, async () => ({})), /neither manifest.json nor index.json/);
  const missing = indexOf({ 'manifest.json': '[{"Config":"c.json","Layers":["l/layer.tar"]}]', 'c.json': '{}' });
  await assert.rejects(planArchive(missing.index, missing.json), /layer 0 of image 0 l\/layer.tar is not in the archive/);
  const mislabelled = indexOf({ 'manifest.json': `[{"Config":"blobs/sha256/${'a'.repeat(64)}","Layers":[]}]`, [`blobs/sha256/${'a'.repeat(64)}`]: '{}' });
  await assert.rejects(planArchive(mislabelled.index, mislabelled.json), /has digest sha256:/);
});

test('save NAME without a tag takes every tag of the repository', () => {
  const tags = () => ['busybox:1', 'busybox:latest', 'other:1'];
  assert.deepEqual(namesFor('busybox', tags), ['busybox:1', 'busybox:latest']);
  assert.deepEqual(namesFor('busybox:1', tags), ['busybox:1']);
  assert.deepEqual(namesFor('abc123', tags), []);
});

test('history: newest first, <missing> under images not made here, empty layers sized 0', () => {
  const parent = { id: sha256Digest('p'), config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' as const, diff_ids: [] }, history: [{ created_by: 'ADD a' }, { created_by: 'CMD x', empty_layer: true }] } };
  const child = { id: sha256Digest('c'), parent: parent.id, config: { ...parent.config, history: [...parent.config.history, { created_by: 'RUN b', comment: 'c' }] } };
  const rows = imageHistory(child, [10, 20], (id) => (id === parent.id ? parent : undefined), (id) => (id === child.id ? ['c:1'] : []));
  assert.deepEqual(rows.map((r) => [r.Id, r.CreatedBy, r.Size, r.Tags]), [
    [child.id, 'RUN b', 20, ['c:1']], [parent.id, 'CMD x', 0, null], ['<missing>', 'ADD a', 10, null],
  ]);
});

test('images filters: labels, references, dangling, and -a hiding intermediates', () => {
  const mk = (name: string, labels: Record<string, string> = {}) => ({ id: sha256Digest(name), config: { architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', config: { Labels: labels }, rootfs: { type: 'layers' as const, diff_ids: [] } } });
  const a = mk('a', { env: 'prod' });
  const b = mk('b');
  const tags: Record<string, string[]> = { [a.id]: ['team/app:1'], [b.id]: [] };
  const ctx = { all: false, tagsOf: (id: Digest) => tags[id] ?? [], hasChildren: (id: Digest) => id === b.id, resolve: () => undefined };
  assert.deepEqual(selectImages([a, b], new Filters({ label: ['env=prod'] }), ctx), [a]);
  assert.deepEqual(selectImages([a, b], new Filters(), ctx), [a]);
  assert.deepEqual(selectImages([a, b], new Filters(), { ...ctx, all: true }), [a, b]);
  assert.deepEqual(selectImages([a, b], new Filters({ dangling: ['true'] }), ctx), [b]);
  assert.ok(referenceMatches('team/*', 'team/app:1'));
  assert.ok(!referenceMatches('app', 'team/app:1'));
  assert.ok(referenceMatches('busybox', 'busybox@sha256:ab'));
});

test('a reference filter shows only the tags and digests it matched, as docker images NAME', () => {
  const refs = ['busybox:latest', 'busybox:1', 'localhost:5000/team/app:v1', 'busybox@sha256:ab', 'other@sha256:cd'];
  assert.deepEqual(shownReferences(refs, new Filters({ reference: ['busybox'] })), ['busybox:latest', 'busybox:1', 'busybox@sha256:ab']);
  assert.deepEqual(shownReferences(refs, new Filters({ reference: ['busybox:1', 'localhost:5000/team/*'] })), ['busybox:1', 'localhost:5000/team/app:v1']);
  assert.deepEqual(shownReferences(refs, new Filters()), refs);
});
