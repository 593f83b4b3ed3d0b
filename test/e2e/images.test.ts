/**
 * The image side through the real docker CLI: save/load round trips (Docker
 * and OCI formats), listing and its filters, history, rmi and prune rules,
 * system df, and the container side of layers (diff, export, commit).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon } from '../support/daemon.js';
import { ociLayout, packBinary, tarOf } from '../support/archives.js';

describe('images', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  const ok = (args: string[], input?: string) => d.dockerOk(args, input !== undefined ? { input } : {});

  test('save writes what Docker 25+ writes, and load brings it back with the same id', async () => {
    const file = join(d.dir, 'bb.tar');
    await ok(['save', '-o', file, 'busybox']);
    const names = execFileSync('tar', ['tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const n of ['oci-layout', 'index.json', 'manifest.json', 'repositories']) assert.ok(names.includes(n), n);
    const manifest = JSON.parse(execFileSync('tar', ['xOf', file, 'manifest.json'], { encoding: 'utf8' })) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    assert.deepEqual(manifest[0]!.RepoTags, ['busybox:latest']);
    const index = JSON.parse(execFileSync('tar', ['xOf', file, 'index.json'], { encoding: 'utf8' })) as { manifests: { annotations: Record<string, string> }[] };
    assert.equal(index.manifests[0]!.annotations['io.containerd.image.name'], 'docker.io/library/busybox:latest');
    // the layer is the exact diffID bytes
    const layer = manifest[0]!.Layers[0]!;
    const sum = execFileSync('sh', ['-c', `tar xOf ${file} ${layer} | sha256sum`], { encoding: 'utf8' }).split(' ')[0];
    assert.equal(`blobs/sha256/${sum}`, layer);

    const id = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim();
    await ok(['tag', 'busybox', 'copy:1']);
    await ok(['rmi', 'busybox', 'copy:1']);
    const loaded = await ok(['load', '-i', file]);
    assert.equal(loaded, 'Loaded image: busybox:latest\n');
    assert.equal((await ok(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim(), id);
    assert.equal(await ok(['run', '--rm', 'busybox', 'echo', 'loaded']), 'loaded\n');
  });

  test('load reads an OCI layout tar (gzip layers, gzip archive) and names it from its annotation', async () => {
    const layer = await tarOf([{ name: 'hello.txt', body: 'from oci\n' }]);
    const img = ociLayout([layer], { gzip: true, name: 'oci/named:v2' });
    writeFileSync(join(d.dir, 'oci.tar.gz'), execFileSync('gzip', ['-c'], { input: await packBinary(img.files) }));
    assert.equal(await ok(['load', '-i', join(d.dir, 'oci.tar.gz')]), 'Loaded image: oci/named:v2\n');
    const inspect = JSON.parse(await ok(['image', 'inspect', 'oci/named:v2']))[0] as { Id: string; RootFS: { Layers: string[] }; Config: { Labels: Record<string, string> } };
    assert.equal(inspect.Id, img.configDigest);
    assert.deepEqual(inspect.RootFS.Layers, img.diffIds);
    // a gzip layer is kept as received and saved back uncompressed with its diffID
    const out = join(d.dir, 'named.tar');
    await ok(['save', '-o', out, 'oci/named:v2']);
    const m = JSON.parse(execFileSync('tar', ['xOf', out, 'manifest.json'], { encoding: 'utf8' })) as { Layers: string[] }[];
    assert.equal(m[0]!.Layers[0], `blobs/sha256/${img.diffIds[0]!.slice(7)}`);
    await ok(['rmi', 'oci/named:v2']);
  });

  test('an untagged archive loads as an image id', async () => {
    const img = ociLayout([await tarOf([{ name: 'x', body: 'x' }])]);
    const r = await ok(['load'], (await packBinary(img.files)).toString('latin1'));
    assert.equal(r, `Loaded image ID: ${img.configDigest}\n`);
    assert.match(await ok(['images', '--filter', 'dangling=true', '-q']), new RegExp(img.configDigest.slice(7, 19)));
    await ok(['rmi', img.configDigest]);
  });

  test('images: -q, --digests, --format and the label/reference/dangling filters', async () => {
    const img = ociLayout([await tarOf([{ name: 'l', body: 'l' }])], { name: 'docker.io/library/labelled:1' });
    await ok(['load'], (await packBinary(img.files)).toString('latin1'));
    assert.equal(await ok(['images', '--filter', 'label=made=outside', '--format', '{{.Repository}}:{{.Tag}}']), 'labelled:1\n');
    assert.equal(await ok(['images', '--filter', 'label=made', '-q']), `${img.configDigest.slice(7, 19)}\n`);
    assert.equal(await ok(['images', 'busy*', '--format', '{{.Repository}}']), 'busybox\n');
    // another name of the same image is not listed under this one's filter
    await ok(['tag', 'busybox', 'other/name:2']);
    assert.equal(await ok(['images', 'busybox', '--format', '{{.Repository}}:{{.Tag}}']), 'busybox:latest\n');
    assert.equal(await ok(['images', 'other/*', '--format', '{{.Repository}}:{{.Tag}}']), 'other/name:2\n');
    await ok(['rmi', 'other/name:2']);
    assert.match(await ok(['images', '--digests']), /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/m);
    assert.equal(await ok(['images', '--filter', 'dangling=true', '-q']), '');
    const bad = await d.docker(['images', '--filter', 'nosuch=1']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter 'nosuch'/);
    await ok(['rmi', 'labelled:1']);
  });

  test('history shows each step newest first, <missing> below the image, sizes per layer', async () => {
    const img = ociLayout([await tarOf([{ name: 'a', body: 'aaaa' }]), await tarOf([{ name: 'b', body: 'bb' }])], {
      name: 'docker.io/library/hist:1',
      history: [{ created_by: '/bin/sh -c #(nop) ADD file:a in /' }, { created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true }, { created_by: 'RUN b' }],
    });
    await ok(['load'], (await packBinary(img.files)).toString('latin1'));
    const rows = (await ok(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}', 'hist:1'])).trim().split('\n');
    assert.deepEqual(rows, [`${img.configDigest}|RUN b|2B`, '<missing>|/bin/sh -c #(nop)  CMD ["sh"]|0B', '<missing>|/bin/sh -c #(nop) ADD file:a in /|4B']);
    const table = await ok(['history', 'hist:1']);
    assert.match(table, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/m);
    await ok(['rmi', 'hist:1']);
  });

  test('rmi: untags while other tags remain, refuses an image a container uses (409) unless forced', async () => {
    await ok(['tag', 'busybox', 'second:tag']);
    assert.equal(await ok(['rmi', 'second:tag']), 'Untagged: second:tag\n');
    await ok(['create', '--name', 'user', 'busybox', 'true']);
    const res = await d.http('DELETE', '/images/busybox');
    assert.equal(res.status, 409);
    assert.match(JSON.parse(res.body).message, /container [0-9a-f]{12} is using its referenced image/);
    const byId = await d.docker(['rmi', (await ok(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim()]);
    assert.equal(byId.code, 1);
    assert.match(byId.stderr, /must be forced/);
    await ok(['rm', 'user']);
  });

  test('image prune removes dangling images; -a removes every unused one and reports the space', async () => {
    const dangling = ociLayout([await tarOf([{ name: 'd', body: 'dangling' }])]);
    await ok(['load'], (await packBinary(dangling.files)).toString('latin1'));
    const tagged = ociLayout([await tarOf([{ name: 't', body: 'tagged!' }])], { name: 'docker.io/library/unused:1' });
    await ok(['load'], (await packBinary(tagged.files)).toString('latin1'));
    const pruned = await ok(['image', 'prune', '-f']);
    assert.match(pruned, new RegExp(`deleted: ${dangling.configDigest}`));
    assert.doesNotMatch(pruned, /unused/);
    await ok(['create', '--name', 'keeper', 'busybox', 'true']);
    const all = await ok(['image', 'prune', '-a', '-f']);
    assert.match(all, /untagged: unused:1/);
    assert.match(all, /Total reclaimed space: 7B/);
    assert.match(await ok(['images', '--format', '{{.Repository}}']), /^busybox$/m);
    await ok(['rm', 'keeper']);
  });

  test('system df reports images, containers, volumes and build cache in docker shape', async () => {
    await ok(['run', '--name', 'dfc', 'busybox', 'sh', '-c', 'head -c 5000 /dev/zero > /big']);
    const res = await d.http('GET', '/system/df');
    const du = JSON.parse(res.body) as { LayersSize: number; Images: { Containers: number }[]; Containers: { SizeRw: number }[]; Volumes: unknown[]; BuildCache: unknown[] };
    assert.ok(du.LayersSize > 1_000_000);
    assert.equal(du.Images[0]!.Containers, 1);
    assert.equal(du.Containers[0]!.SizeRw, 5000);
    assert.deepEqual(du.Volumes, []);
    assert.deepEqual(du.BuildCache, []);
    const table = await ok(['system', 'df']);
    assert.match(table, /^Images\s+1\s+1\s+/m);
    assert.match(table, /^Containers\s+1\s+0\s+5kB\s+5kB \(100%\)$/m);
    assert.match(await ok(['system', 'df', '-v']), /Containers space usage:/);
    await ok(['rm', 'dfc']);
  });

  test('diff lists A/C/D from the upper dir; commit makes a layer; export flattens', async () => {
    await ok(['run', '-d', '--name', 'fs', 'busybox', 'sh', '-c', 'echo hi > /tmp/f; mkdir -p /d/sub; echo y > /d/sub/y; rm /bin/arch; sleep 1000']);
    for (let i = 0; i < 50 && !(await ok(['diff', 'fs'])).includes('D /bin/arch'); i++) await new Promise((r) => setTimeout(r, 100));
    const diff = (await ok(['diff', 'fs'])).trim().split('\n');
    for (const line of ['C /bin', 'D /bin/arch', 'A /d', 'A /d/sub/y', 'C /tmp', 'A /tmp/f']) assert.ok(diff.includes(line), `${line} in ${diff.join(', ')}`);

    const id = (await ok(['commit', '-m', 'snap', '-a', 'me', '-c', 'ENV COMMITTED=yes', '-c', 'CMD ["cat","/tmp/f"]', 'fs', 'snap:v1'])).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await ok(['run', '--rm', 'snap:v1']), 'hi\n');
    assert.equal(await ok(['run', '--rm', 'snap:v1', 'sh', '-c', 'echo $COMMITTED; ls /bin/arch 2>&1 || true']), 'yes\nls: /bin/arch: No such file or directory\n');
    const inspect = JSON.parse(await ok(['image', 'inspect', 'snap:v1']))[0] as { Comment: string; Author: string; Parent: string; RootFS: { Layers: string[] } };
    assert.equal(inspect.Comment, 'snap');
    assert.equal(inspect.Author, 'me');
    assert.equal(inspect.RootFS.Layers.length, 2);
    const history = (await ok(['history', '--format', '{{.Comment}}', 'snap:v1'])).trim().split('\n');
    assert.deepEqual(history, ['snap', 'berth image bootstrap']);
    // the parent is held by its child
    const rmParent = await d.docker(['rmi', '-f', inspect.Parent]);
    assert.equal(rmParent.code, 1);
    assert.match(rmParent.stderr, /image has dependent child images/);

    const running = execFileSync(process.env.SHELL ?? 'sh', ['-c', `DOCKER_HOST=${d.host} docker export fs | tar t`], { encoding: 'utf8' });
    assert.match(running, /^\.dockerenv$/m);
    assert.match(running, /^d\/sub\/y$/m);
    assert.doesNotMatch(running, /^bin\/arch$/m);
    await ok(['stop', '-t', '0', 'fs']);
    const stopped = execFileSync('sh', ['-c', `DOCKER_HOST=${d.host} docker export fs | tar t`], { encoding: 'utf8' });
    assert.match(stopped, /^tmp\/f$/m);
    assert.doesNotMatch(stopped, /\.wh\./);
    await ok(['rm', 'fs']);
    await ok(['rmi', 'snap:v1']);
    assert.deepEqual(d.leftovers().mounts, []);
    assert.deepEqual(readdirSync(join(d.dataRoot, 'tmp')), []);
    assert.ok(readFileSync('/proc/self/mounts', 'utf8').split('\n').every((l) => !l.includes(d.dataRoot)));
  });
});
