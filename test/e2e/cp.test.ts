/**
 * `docker cp` / `berth cp` against berthd, both ways, running and stopped
 * containers, the archive endpoints' wire format, and the attacks on them:
 * symlinks planted in the container, archives that climb out, and a
 * container that flips a directory into a symlink to / while we copy
 * (CVE-2018-15664). Each attack is built so that a daemon that resolved
 * paths on the host (join(rootfs, path) and open) would write or read a
 * file outside the container; the tests check that nothing does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { headerDefaults, readTar, TarWriter, type TarHeader } from '../../src/lib/tar/index.js';
import { TestDaemon } from '../support/daemon.js';
import { buildProbeImage } from '../support/probe.js';
import { waitFor } from '../support/wait.js';

/** A tar built from headers and bodies, as raw bytes. */
async function tarOf(entries: [Partial<TarHeader> & Pick<TarHeader, 'name' | 'type'>, string?][]): Promise<Buffer> {
  const w = new TarWriter();
  const chunks: Buffer[] = [];
  w.stream.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => w.stream.on('end', r));
  for (const [h, body] of entries) await w.add(headerDefaults({ ...h, size: body ? Buffer.byteLength(body) : 0 }), body);
  await w.finish();
  await done;
  return Buffer.concat(chunks);
}

async function namesOf(tar: Buffer): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar((async function* () { yield tar; })())) out.push(e.header.type === 'symlink' ? `${e.header.name} -> ${e.header.linkname}` : e.header.name);
  return out;
}

describe('cp and the archive endpoints', () => {
  let d: TestDaemon;
  let tmp: string;
  const v = '/v1.47';
  const exec = async (c: string, script: string) => (await d.docker(['exec', c, 'sh', '-c', script])).stdout;
  /** Raw HTTP with a binary body; resolves with status, headers and the body as bytes. */
  const call = (method: string, path: string, body?: Buffer) => new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request({ socketPath: d.socket, method, path, headers: body ? { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
  const q = (path: string) => encodeURIComponent(path);
  const idOf = async (name: string) => (await d.docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim();

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    await buildProbeImage(d);
    tmp = mkdtempSync('/tmp/berth-cp-');
    await d.docker(['run', '-d', '--name', 'box', 'busybox', 'sh', '-c',
      'mkdir -p /data/sub /data/empty; echo hello > /data/f.txt; echo deep > /data/sub/d.txt; ln -s f.txt /data/link; ln /data/f.txt /data/hard; chmod 4755 /data/sub/d.txt; sleep 1000']);
  });
  after(async () => {
    await d?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('container → host: a file, a directory, its contents with /., a symlink as is or followed with -L', async () => {
    const dst = join(tmp, 'out1');
    mkdirSync(dst);
    for (const [src, to] of [['box:/data/f.txt', dst], ['box:/data', join(dst, 'copy')], ['box:/data/.', join(dst, 'contents')], ['box:/data/link', dst], ['box:/data/sub', join(dst, 'renamed')]]) {
      const r = await d.docker(['cp', src!, to!]);
      assert.equal(r.code, 0, `${src}: ${r.stderr}`);
    }
    assert.equal(readFileSync(join(dst, 'f.txt'), 'utf8'), 'hello\n');
    assert.equal(readFileSync(join(dst, 'copy', 'sub', 'd.txt'), 'utf8'), 'deep\n');
    assert.equal(lstatSync(join(dst, 'copy', 'sub', 'd.txt')).mode & 0o7777, 0o4755, 'modes are kept');
    assert.ok(existsSync(join(dst, 'copy', 'empty')));
    assert.equal(lstatSync(join(dst, 'copy', 'hard')).ino, lstatSync(join(dst, 'copy', 'f.txt')).ino, 'hard links stay hard links');
    assert.equal(readFileSync(join(dst, 'contents', 'sub', 'd.txt'), 'utf8'), 'deep\n', '/. copies what is inside');
    assert.equal(existsSync(join(dst, 'contents', 'data')), false);
    assert.equal(readlinkSync(join(dst, 'link')), 'f.txt', 'a symlink is copied as a symlink');
    assert.equal(readFileSync(join(dst, 'renamed', 'd.txt'), 'utf8'), 'deep\n');
    assert.equal((await d.docker(['cp', '-L', 'box:/data/link', join(dst, 'followed')])).code, 0);
    assert.equal(readFileSync(join(dst, 'followed'), 'utf8'), 'hello\n');
    const missing = await d.docker(['cp', 'box:/nonexist', dst]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error response from daemon: Could not find the file \/nonexist in container box/);
    const stdout = await d.docker(['cp', 'box:/data/sub', '-']);
    assert.match(stdout.stdout, /^sub\/\0/, 'to stdout: a tar whose top entry is the base name');
  });

  test('host → container: into a directory, to a new name, a directory, a tar from stdin; docker\'s refusals', async () => {
    const src = join(tmp, 'src1');
    mkdirSync(join(src, 'tree', 'inner'), { recursive: true });
    writeFileSync(join(src, 'up.txt'), 'up\n');
    writeFileSync(join(src, 'tree', 'inner', 'x'), 'x\n');
    chownSync(join(src, 'up.txt'), 1234, 4321);
    for (const [from, to] of [[join(src, 'up.txt'), 'box:/tmp/'], [join(src, 'up.txt'), 'box:/tmp/renamed.txt'], [join(src, 'tree'), 'box:/tmp/newtree'], [`${join(src, 'tree')}/.`, 'box:/data/empty']]) {
      const r = await d.docker(['cp', from!, to!]);
      assert.equal(r.code, 0, `${from} → ${to}: ${r.stderr}`);
    }
    assert.equal(await exec('box', 'cat /tmp/up.txt /tmp/renamed.txt /tmp/newtree/inner/x /data/empty/inner/x'), 'up\nup\nx\nx\n');
    assert.equal((await exec('box', 'stat -c %u:%g /tmp/up.txt')).trim(), '1234:4321', 'the archive\'s owner is kept');
    const tar = await d.docker(['cp', '-', 'box:/tmp'], { input: (await tarOf([[{ name: 'stdin.txt', type: 'file' }, 'from stdin\n']])).toString('latin1') });
    assert.equal(tar.code, 0, tar.stderr);
    assert.equal(await exec('box', 'cat /tmp/stdin.txt'), 'from stdin\n');
    assert.match((await d.docker(['cp', join(src, 'tree'), 'box:/tmp/up.txt'])).stderr, /cannot copy directory/);
    assert.match((await d.docker(['cp', join(src, 'up.txt'), 'box:/nonexist/dir/'])).stderr, /Could not find the file \/nonexist in container box|no such directory/);
    assert.match((await d.docker(['cp', join(src, 'up.txt'), 'box:/tmp/up.txt/'])).stderr, /no such directory|not a directory/);
    assert.match((await d.docker(['cp', join(tmp, 'nothing-here'), 'box:/tmp'])).stderr, /no such file or directory/);
  });

  test('host → container: a tree of nested dirs, hundreds of small files, a large file, symlinks, modes, owners and times arrives exactly', async () => {
    const root = join(tmp, 'exact', 'tree');
    mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
    mkdirSync(join(root, 'many'));
    const expected = new Map<string, string>();
    // more files than one batch of the extractor, so that batches follow each other in a directory
    for (let i = 0; i < 300; i++) writeFileSync(join(root, 'many', `f${i}`), `small ${i}\n`.repeat(i % 7));
    writeFileSync(join(root, 'a', 'b', 'c', 'deep.txt'), 'deep\n');
    writeFileSync(join(root, 'a', 'suid'), 'suid\n');
    chmodSync(join(root, 'a', 'suid'), 0o4755);
    writeFileSync(join(root, 'a', 'secret'), 'secret\n');
    chmodSync(join(root, 'a', 'secret'), 0o600);
    writeFileSync(join(root, 'a', 'group-writable'), 'gw\n');
    chmodSync(join(root, 'a', 'group-writable'), 0o664); // wider than the daemon's umask lets an open make
    chmodSync(join(root, 'a', 'b'), 0o750);
    writeFileSync(join(root, 'owned'), 'owned\n');
    chownSync(join(root, 'owned'), 1234, 4321);
    writeFileSync(join(root, 'big.bin'), randomBytes(3 << 20)); // past the small-file size and the write buffer
    writeFileSync(join(root, 'many', 'mid.bin'), randomBytes(100_000)); // a large file between small ones
    symlinkSync('a/b', join(root, 'rel-link'));
    symlinkSync('/etc/passwd', join(root, 'a', 'abs-link'));
    for (const p of ['many/f3', 'a/b/c/deep.txt', 'big.bin']) utimesSync(join(root, p), 1_500_000_000, 1_500_000_000);
    utimesSync(join(root, 'a', 'b', 'c'), 1_400_000_000, 1_400_000_000);
    const walk = (rel: string): void => {
      const st = lstatSync(join(root, rel));
      const kind = st.isSymbolicLink() ? `-> ${readlinkSync(join(root, rel))}` : st.isDirectory() ? 'dir' : createHash('md5').update(readFileSync(join(root, rel))).digest('hex');
      // a symlink's own mode and time are not compared: lutimes and modes of links are not what cp promises
      const meta = st.isSymbolicLink() ? `${st.uid}:${st.gid}` : `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() ? '' : Math.floor(st.mtimeMs / 1000)}`;
      expected.set(`./${rel}`.replace(/\/$/, ''), `${meta} ${kind}`);
      if (st.isDirectory()) for (const n of readdirSync(join(root, rel))) walk(rel ? `${rel}/${n}` : n);
    };
    walk('');
    const r = await d.docker(['cp', root, 'box:/tmp/exact']);
    assert.equal(r.code, 0, r.stderr);
    const listing = await exec('box', `cd /tmp/exact && find . | while read -r p; do
      if [ -L "$p" ]; then echo "$p|$(stat -c '%u:%g' "$p") -> $(readlink "$p")";
      elif [ -d "$p" ]; then echo "$p|$(stat -c '%a %u:%g' "$p")  dir";
      else echo "$p|$(stat -c '%a %u:%g %Y' "$p") $(md5sum < "$p" | cut -d' ' -f1)"; fi; done`);
    const got = new Map(listing.trim().split('\n').map((l) => l.split('|') as [string, string]));
    assert.equal(got.size, expected.size);
    for (const [path, want] of expected) assert.equal(got.get(path), want, path);
    assert.equal((await exec('box', "stat -c %Y /tmp/exact/a/b/c")).trim(), '1400000000', 'directory times are set after their contents');
  });

  test('a stopped container: copy both ways, its rootfs mounted only for the copy', async () => {
    await d.docker(['create', '--name', 'parked', 'busybox', 'cat', '/greeting']);
    const id = await idOf('parked');
    writeFileSync(join(tmp, 'greeting'), 'hi from the host\n');
    assert.equal((await d.docker(['cp', join(tmp, 'greeting'), 'parked:/greeting'])).code, 0);
    assert.deepEqual(d.leftovers().mounts.filter((m) => m.includes(id)), [], 'unmounted after the copy');
    const out = await d.docker(['start', '-a', 'parked']);
    assert.equal(out.stdout, 'hi from the host\n');
    assert.equal((await d.docker(['cp', 'parked:/greeting', join(tmp, 'back')])).code, 0);
    assert.equal(readFileSync(join(tmp, 'back'), 'utf8'), 'hi from the host\n');
    // the reader may finish before the daemon unmounts: give it a moment
    await waitFor(async () => d.leftovers().mounts.filter((m) => m.includes(id)).length === 0, 3000);
    await d.docker(['rm', 'parked']);
  });

  test('wire: HEAD stat header with Go FileMode bits, GET tar, PUT errors with Docker\'s status and wording', async () => {
    const head = await call('HEAD', `${v}/containers/box/archive?path=${q('/data/sub')}`);
    assert.equal(head.status, 200);
    const stat = JSON.parse(Buffer.from(head.headers['x-docker-container-path-stat'] as string, 'base64').toString());
    assert.deepEqual(Object.keys(stat), ['name', 'size', 'mode', 'mtime', 'linkTarget']);
    assert.equal(stat.name, 'sub');
    assert.equal(stat.mode, 2 ** 31 + 0o755, 'dir | 0755');
    assert.match(stat.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const link = JSON.parse(Buffer.from((await call('HEAD', `${v}/containers/box/archive?path=${q('/data/link')}`)).headers['x-docker-container-path-stat'] as string, 'base64').toString());
    assert.equal(link.mode, 2 ** 27 + 0o777, 'symlink bit');
    assert.equal(link.linkTarget, '/data/f.txt');
    assert.equal((await call('HEAD', `${v}/containers/box/archive?path=${q('/nope')}`)).status, 404);
    const get = await call('GET', `${v}/containers/box/archive?path=${q('/data/sub')}`);
    assert.equal(get.headers['content-type'], 'application/x-tar');
    assert.deepEqual(await namesOf(get.body), ['sub/', 'sub/d.txt']);
    assert.deepEqual(await namesOf((await call('GET', `${v}/containers/box/archive?path=${q('/data/sub/.')}`)).body), ['./', './d.txt']);
    const missing = await call('GET', `${v}/containers/box/archive?path=${q('/nope')}`);
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body.toString()), { message: 'Could not find the file /nope in container box' });
    const body = await tarOf([[{ name: 'x', type: 'file' }, 'x']]);
    const toFile = await call('PUT', `${v}/containers/box/archive?path=${q('/data/f.txt')}`, body);
    assert.equal(toFile.status, 400);
    assert.match(toFile.body.toString(), /extraction point is not a directory/);
    assert.equal((await call('PUT', `${v}/containers/box/archive?path=${q('/nope')}`, body)).status, 404);
    const dirOverFile = await call('PUT', `${v}/containers/box/archive?path=${q('/data')}&noOverwriteDirNonDir=true`, await tarOf([[{ name: 'f.txt', type: 'dir' }]]));
    assert.equal(dirOverFile.status, 500);
    assert.match(dirOverFile.body.toString(), /cannot overwrite non-directory \\"f.txt\\" with directory \\"\/data\\"/);
    assert.equal(await exec('box', 'cat /data/f.txt'), 'hello\n', 'a refused extract changed nothing');
    await d.docker(['run', '-d', '--name', 'ro', '--read-only', 'busybox', 'sleep', '100']);
    const ro = await d.docker(['cp', join(tmp, 'greeting'), 'ro:/tmp']);
    assert.match(ro.stderr, /container rootfs is marked read-only/);
    await d.docker(['rm', '-f', 'ro']);
  });

  test('cp -a gives the files to the container\'s user; /etc/hosts comes from the container\'s own file', async () => {
    await d.docker(['run', '-d', '--name', 'owned', '-u', '33:44', 'busybox', 'sleep', '100']);
    writeFileSync(join(tmp, 'mine.txt'), 'mine\n');
    assert.equal((await d.docker(['cp', '-a', join(tmp, 'mine.txt'), 'owned:/tmp/'])).code, 0);
    assert.equal((await exec('owned', 'stat -c %u:%g /tmp/mine.txt')).trim(), '33:44');
    const hosts = await d.docker(['cp', 'owned:/etc/hosts', '-']);
    assert.match(hosts.stdout, /127\.0\.0\.1\tlocalhost/);
    await d.docker(['rm', '-f', 'owned']);
  });

  test('paths under volumes and binds: cp reads and writes the volume, refuses a read-only bind', async () => {
    const bind = mkdtempSync('/tmp/berth-cp-bind-');
    try {
      writeFileSync(join(bind, 'from-host'), 'bound\n');
      await d.docker(['run', '-d', '--name', 'vols', '-v', 'cpvol:/vol', '-v', `${bind}:/ro:ro`, 'busybox', 'sleep', '100']);
      writeFileSync(join(tmp, 'into-volume'), 'in the volume\n');
      assert.equal((await d.docker(['cp', join(tmp, 'into-volume'), 'vols:/vol/'])).code, 0);
      assert.equal(await exec('vols', 'cat /vol/into-volume'), 'in the volume\n', 'the container sees it in its volume');
      const mountpoint = (await d.docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'cpvol'])).stdout.trim();
      assert.equal(readFileSync(join(mountpoint, 'into-volume'), 'utf8'), 'in the volume\n', 'it is in the volume, not under the mount point in the rootfs');
      assert.equal((await d.docker(['cp', 'vols:/ro/from-host', '-'])).stdout.includes('bound\n'), true);
      const ro = await d.docker(['cp', join(tmp, 'into-volume'), 'vols:/ro/']);
      assert.match(ro.stderr, /mounted volume is marked read-only/);
      assert.equal(existsSync(join(bind, 'into-volume')), false);
    } finally {
      await d.docker(['rm', '-f', 'vols']);
      await d.docker(['volume', 'rm', 'cpvol']);
      rmSync(bind, { recursive: true, force: true });
    }
  });

  test('berth cp behaves like docker cp', async () => {
    const dst = join(tmp, 'berth-out');
    mkdirSync(dst);
    assert.equal((await d.berth(['cp', 'box:/data', dst])).code, 0);
    assert.equal(readFileSync(join(dst, 'data', 'sub', 'd.txt'), 'utf8'), 'deep\n');
    assert.equal(readlinkSync(join(dst, 'data', 'link')), 'f.txt');
    assert.equal((await d.berth(['cp', '-L', 'box:/data/link', join(dst, 'f2')])).code, 0);
    assert.equal(readFileSync(join(dst, 'f2'), 'utf8'), 'hello\n');
    assert.equal((await d.berth(['cp', join(dst, 'data'), 'box:/tmp/berthcopy'])).code, 0);
    assert.equal(await exec('box', 'cat /tmp/berthcopy/sub/d.txt'), 'deep\n');
    for (const [args, err] of [
      [['box:/nonexist', dst], 'Error response from daemon: Could not find the file /nonexist in container box\n'],
      [[join(dst, 'data'), 'box:/data/f.txt'], 'cannot copy directory\n'],
      [['box:/a', 'box:/b'], 'copying between containers is not supported\n'],
      [['a', 'b'], 'must specify at least one container source\n'],
    ] as [string[], string][]) {
      const [b, k] = await Promise.all([d.berth(['cp', ...args]), d.docker(['cp', ...args])]);
      assert.equal(b.stderr, err, args.join(' '));
      assert.equal(b.code, k.code, args.join(' '));
      assert.ok(k.stderr.includes(err.trim()), `docker says: ${k.stderr}`);
    }
    const tar = await d.berth(['cp', 'box:/data/sub/d.txt', '-']);
    assert.match(tar.stdout, /^d\.txt\0/);
  });

  test('attack: symlinks planted in the container never lead cp outside it', async () => {
    const tag = randomBytes(6).toString('hex');
    await d.docker(['exec', 'box', 'sh', '-c', 'ln -s / /escape; ln -s ../../../../../../.. /data/up; ln -s /etc /data/etc-link']);
    // write: a naive daemon following /escape on the host would create /berth-escape-<tag> in the host's root
    writeFileSync(join(tmp, `berth-escape-${tag}`), 'pwned\n');
    assert.equal((await d.docker(['cp', join(tmp, `berth-escape-${tag}`), 'box:/escape/'])).code, 0);
    assert.equal((await d.docker(['cp', join(tmp, `berth-escape-${tag}`), 'box:/data/up/tmp/'])).code, 0);
    assert.equal(existsSync(`/berth-escape-${tag}`), false, 'nothing in the host root');
    assert.equal(existsSync(`/tmp/berth-escape-${tag}`), false, 'nothing in the host /tmp');
    assert.equal(await exec('box', `cat /berth-escape-${tag} /tmp/berth-escape-${tag}`), 'pwned\npwned\n', 'both landed inside the container');
    // read: the host's file behind the same links stays out of reach
    const secret = `/tmp/berth-secret-${tag}`;
    writeFileSync(secret, 'host secret\n');
    try {
      for (const path of [`/escape${secret}`, `/data/up${secret}`]) {
        const r = await call('GET', `${v}/containers/box/archive?path=${q(path)}`);
        assert.equal(r.status, 404, path);
        assert.equal(r.body.includes('host secret'), false);
      }
      // a directory walk does not follow a symlink either
      const walk = await call('GET', `${v}/containers/box/archive?path=${q('/data')}`);
      assert.ok((await namesOf(walk.body)).includes('data/up -> ../../../../../../..'));
      assert.equal(walk.body.includes('host secret'), false);
    } finally {
      rmSync(secret, { force: true });
    }
  });

  test('attack: archive entries that climb out, or go through their own symlinks, are refused', async () => {
    const tag = randomBytes(6).toString('hex');
    const cases: [string, Buffer, RegExp][] = [
      ['dot-dot entry', await tarOf([[{ name: `../../../../tmp/berth-evil-${tag}`, type: 'file' }, 'evil']]), /invalid entry name/],
      ['symlink then a file through it', await tarOf([[{ name: 'lnk', type: 'symlink', linkname: '/' }], [{ name: `lnk/tmp/berth-evil-${tag}`, type: 'file' }, 'evil']]), /escapes root/],
      ['relative symlink then a file through it', await tarOf([[{ name: 'rel', type: 'symlink', linkname: '../../../../../../' }], [{ name: `rel/tmp/berth-evil-${tag}`, type: 'file' }, 'evil']]), /escapes root/],
      ['hard link out', await tarOf([[{ name: 'h', type: 'link', linkname: '../../../../etc/shadow' }]]), /invalid (entry name|hardlink target)/],
    ];
    for (const [what, body, message] of cases) {
      const r = await call('PUT', `${v}/containers/box/archive?path=${q('/data/sub')}`, body);
      assert.equal(r.status, 400, `${what}: a client's bad archive is a 400`);
      assert.match(r.body.toString(), message, what);
    }
    assert.equal(existsSync(`/tmp/berth-evil-${tag}`), false, 'nothing on the host');
    assert.equal((await d.docker(['exec', 'box', 'ls', `/tmp/berth-evil-${tag}`])).code, 1, 'nor outside the extraction directory in the container');
  });

  test('attack: a container flipping a directory and a symlink to / while cp writes and reads (CVE-2018-15664)', async () => {
    const tag = randomBytes(6).toString('hex');
    const name = `berth-race-${tag}`;
    const secret = `/tmp/berth-race-secret-${tag}`;
    writeFileSync(secret, 'host secret\n');
    // /w is a directory, /w-link a symlink to /; the probe swaps them with renameat2(RENAME_EXCHANGE) in a loop
    await d.docker(['run', '-d', '--name', 'flipper', 'probe', 'sh', '-c', 'mkdir /w; ln -s / /w-link; exec /probe swap /w /w-link']);
    const body = await tarOf([[{ name, type: 'file' }, 'raced\n']]);
    let wrote = 0;
    let read = 0;
    try {
      const until = Date.now() + 2500;
      while (Date.now() < until) {
        const [put, get] = await Promise.all([
          call('PUT', `${v}/containers/flipper/archive?path=${q('/w')}`, body),
          call('GET', `${v}/containers/flipper/archive?path=${q(`/w${secret}`)}`),
        ]);
        if (put.status === 200) wrote++;
        if (get.status === 200) read++;
        assert.equal(get.body.includes('host secret'), false, 'never the host\'s file');
        assert.equal(existsSync(`/${name}`), false, 'never a file in the host root');
      }
      writeFileSync(join(tmp, name), 'raced\n');
      const cli = await d.docker(['cp', join(tmp, name), 'flipper:/w/']);
      assert.ok(cli.code === 0 || /Error response from daemon/.test(cli.stderr), cli.stderr);
    } finally {
      rmSync(secret, { force: true });
      rmSync(`/${name}`, { force: true });
      await d.docker(['rm', '-f', 'flipper']);
    }
    assert.ok(wrote > 10, `the race ran (${wrote} writes)`);
    assert.equal(read, 0, 'the host file was never readable');
    assert.equal(existsSync(`/${name}`), false);
  });
});
