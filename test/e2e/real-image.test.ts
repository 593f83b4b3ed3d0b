/**
 * The daily proof that berth builds what users build: a debootstrap minbase
 * Debian bookworm (scripts/debootstrap-base.sh, cached under
 * /var/cache/berth-test/) goes in with `docker import`, a Dockerfile runs
 * apt-get against the machine's Debian mirror through the default bridge's
 * NAT (DOCKER_BUILDKIT=0), and the image is run, saved, removed and loaded
 * back with the same id, layers and history. Skipped, saying why, only when
 * debootstrap is missing or the mirror does not answer.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { REPO, TestDaemon, type CommandOptions } from '../support/daemon.js';

const SCRIPT = join(REPO, 'scripts/debootstrap-base.sh');
const BASE = 'berth-test/bookworm:minbase';
const IMAGE = 'berth-test/curl:1';
const legacy: CommandOptions = { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 300_000 };

/** The status of a HEAD request, or why there was none. */
function head(url: string, timeoutMs: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'HEAD', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 'no status');
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (err) => resolve(err.message));
    req.end();
  });
}

/** Why this machine cannot run the test, or undefined when it can. */
async function cannotRun(mirror: string): Promise<string | undefined> {
  if (spawnSync('sh', ['-c', 'command -v debootstrap'], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).status !== 0) {
    return 'debootstrap is not installed (scripts/setup.sh installs it)';
  }
  const release = `${mirror}/dists/bookworm/Release`;
  const status = await head(release, 5_000);
  if (status !== 200) return `the Debian mirror does not answer: HEAD ${release} → ${status}`;
  return undefined;
}

describe('real image: debootstrap bookworm imported, apt-get in a build', () => {
  let d: TestDaemon | undefined;
  let tmp: string | undefined;
  let why: string | undefined;
  let mirror = '';
  before(async () => {
    mirror = execFileSync('bash', [SCRIPT, '--mirror'], { encoding: 'utf8' }).trim();
    why = await cannotRun(mirror);
    if (why) return;
    tmp = mkdtempSync('/tmp/berth-real-image-');
    // cold: a debootstrap from the mirror (minutes); warm: a copy of the cached tarball
    execFileSync('bash', [SCRIPT, join(tmp, 'base.tar')], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 900_000 });
    d = await TestDaemon.start();
  });
  after(async () => {
    await d?.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const ok = async (args: string[], o: CommandOptions = legacy) => {
    const r = await d!.docker(args, o);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${r.stdout}`);
    return r.stdout;
  };
  const skipped = (t: TestContext) => {
    if (why) t.skip(why);
    return why !== undefined;
  };

  test('docker import takes the debootstrap tarball and it runs as Debian 12', async (t) => {
    if (skipped(t)) return;
    const id = (await ok(['import', '-c', 'CMD ["bash"]', join(tmp!, 'base.tar'), BASE])).trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const osRelease = await ok(['run', '--rm', BASE, 'cat', '/etc/os-release']);
    assert.match(osRelease, /^VERSION_ID="12"$/m);
    assert.equal((await ok(['run', '--rm', BASE])).trim(), '', 'CMD bash with no stdin exits at once');
  });

  test('a Dockerfile runs apt-get against the mirror through the default bridge and installs curl', async (t) => {
    if (skipped(t)) return;
    writeFileSync(join(tmp!, 'Dockerfile'), [
      `FROM ${BASE}`,
      'ARG DEBIAN_FRONTEND=noninteractive',
      'RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*',
      'CMD ["curl", "--version"]',
    ].join('\n'));
    writeFileSync(join(tmp!, '.dockerignore'), 'base.tar\n*.tar\n');
    const out = await ok(['build', '-t', IMAGE, tmp!]);
    assert.match(out, /Setting up curl \(/);
    assert.match(out, /Successfully tagged berth-test\/curl:1/);
    assert.match(await ok(['run', '--rm', IMAGE]), /^curl 7\.\d+\.\d+ /);
    assert.match(await ok(['run', '--rm', IMAGE, 'dpkg', '-s', 'curl']), /^Status: install ok installed$/m);
    // the installed binary reaches the mirror from a running container too
    assert.match(await ok(['run', '--rm', IMAGE, 'curl', '-sSI', '--max-time', '20', `${mirror}/dists/bookworm/Release`]), /^HTTP\/1\.[01] 200/);
  });

  test('save, rmi and load bring back the same image: id, layers, config and history', async (t) => {
    if (skipped(t)) return;
    const fmt = '{{.Id}} {{json .RootFS.Layers}} {{json .Config.Cmd}} {{.Os}}/{{.Architecture}} comment={{json .Comment}}';
    const before = (await ok(['image', 'inspect', '-f', fmt, IMAGE])).trim();
    const history = await ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', IMAGE]);
    const steps = history.trim().split('\n');
    assert.equal(steps.length, 4, history);
    // dockerd writes `CMD ["curl" "--version"]` (Go's %q of the list); berth keeps the Dockerfile's text
    assert.match(steps[0]!, /^\/bin\/sh -c #\(nop\)  CMD \["curl",? "--version"\]\|$/);
    // the classic builder prefixes a RUN with the build args it saw
    assert.match(steps[1]!, /^\|1 DEBIAN_FRONTEND=noninteractive \/bin\/sh -c apt-get update && apt-get install -y --no-install-recommends curl /);
    assert.match(steps[2]!, /^\/bin\/sh -c #\(nop\)  ARG DEBIAN_FRONTEND=noninteractive\|$/);
    assert.equal(steps[3], '|Imported from -');
    assert.match(before, / linux\/amd64 comment=""$/, 'the base\'s "Imported from -" stays with the base, as in dockerd');
    assert.equal((await ok(['image', 'inspect', '-f', '{{.Comment}}', BASE])).trim(), 'Imported from -');
    const layers = JSON.parse(before.split(' ')[1]!) as string[];
    assert.equal(layers.length, 2, 'the imported layer and the RUN layer');

    const archive = join(tmp!, 'curl.tar');
    await ok(['save', '-o', archive, IMAGE]);
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' })) as { RepoTags: string[]; Layers: string[] }[];
    assert.deepEqual(manifest.map((m) => [m.RepoTags, m.Layers.length]), [[[IMAGE], 2]]);
    await ok(['rmi', IMAGE, BASE]);
    assert.equal((await ok(['images', '-q'])).trim(), '');
    assert.match(await ok(['load', '-i', archive]), new RegExp(`Loaded image: ${IMAGE}`));
    assert.equal((await ok(['image', 'inspect', '-f', fmt, IMAGE])).trim(), before);
    assert.equal(await ok(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', IMAGE]), history);
    assert.match(await ok(['run', '--rm', IMAGE, 'dpkg', '-s', 'curl']), /^Status: install ok installed$/m);
  });

  test('nothing is left behind: no mounts, shims or cgroups of the daemon, no debootstrap mounts', async (t) => {
    if (skipped(t)) return;
    assert.equal((await ok(['ps', '-aq'])).trim(), '');
    assert.deepEqual(d!.leftovers(), { mounts: [], shims: [], cgroups: [] });
    const debootstrapMounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes('berth-debootstrap'));
    assert.deepEqual(debootstrapMounts, []);
  });
});
