/**
 * berthd starts its programs and makes its mounts through native/berth-spawner
 * (lib/spawner/): the daemon itself forks only that helper, once.
 */
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { TestDaemon } from '../support/daemon.js';
import { waitFor } from '../support/wait.js';

interface Trace { name: string; spans: { name: string; ms?: number }[] }

/** Child processes of `pid` with their command names. */
function children(pid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean)) {
      out.push({ pid: Number(c), comm: readFileSync(`/proc/${c}/comm`, 'utf8').trim() });
    }
  }
  return out;
}

function helperOf(d: TestDaemon): number | undefined {
  return children(d.pid!).find((c) => c.comm === 'berth-spawner')?.pid;
}

/** Running (a zombie waiting for a reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('berth-spawner', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ extraArgs: ['--debug'] });
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  test('run --rm: the rootfs and the network namespace are made by the helper, with no mount or unshare program', async () => {
    assert.ok(helperOf(d), 'berthd has a berth-spawner child');
    assert.equal((await d.docker(['run', '--rm', 'busybox', 'true'])).code, 0);
    const traces = async () => JSON.parse((await d.http('GET', '/debug/spans')).body) as Trace[];
    const start = (await traces()).find((t) => /\/containers\/[0-9a-f]{64}\/start$/.test(t.name))!;
    const names = start.spans.map((s) => s.name);
    assert.ok(names.includes('syscall netns') && names.includes('syscall mount overlay'), names.join(', '));
    assert.ok(!names.includes('exec mount') && !names.includes('exec unshare'), names.join(', '));
    let exit: Trace | undefined;
    await waitFor(async () => !!(exit = (await traces()).find((t) => t.name.startsWith('container exit') && t.spans.some((s) => s.name === 'auto remove' && s.ms !== undefined))), 10_000);
    assert.equal(exit!.spans.filter((s) => s.name === 'syscall umount').length, 2, 'netns and rootfs');
    // whatever berthd ran, it forked only the helper: programs are the helper's grandchildren
    assert.deepEqual(children(d.pid!).map((c) => c.comm), ['berth-spawner']);
  });

  test('docker export and docker diff start no program of the daemon\'s own: export\'s tar runs through the helper', async () => {
    const c = await d.docker(['create', 'busybox', 'true']);
    assert.equal(c.code, 0, c.stderr);
    const id = c.stdout.trim();
    const diff = await d.docker(['diff', id]);
    assert.equal(diff.code, 0, diff.stderr);
    const exported = execFileSync('sh', ['-c', `DOCKER_HOST=${d.host} docker export ${id} | tar t`], { encoding: 'utf8' });
    assert.match(exported, /^bin\/busybox$/m);
    const traces = JSON.parse((await d.http('GET', '/debug/spans')).body) as Trace[];
    const exp = traces.find((t) => t.name.endsWith(`/containers/${id}/export`))!;
    assert.ok(exp.spans.some((s) => s.name === 'exec tar'), exp.spans.map((s) => s.name).join(', '));
    assert.deepEqual(children(d.pid!).map((ch) => ch.comm), ['berth-spawner']);
    await d.docker(['rm', id]);
  });

  test('a killed helper is replaced: the next docker run works, with a new helper', async () => {
    const first = helperOf(d)!;
    process.kill(first, 'SIGKILL');
    await waitFor(async () => !alive(first), 5_000);
    const r = await d.docker(['run', '--rm', 'busybox', 'echo', 'still works']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'still works\n');
    const second = helperOf(d);
    assert.ok(second && second !== first, `a new helper (was ${first}, now ${second})`);
  });

  test('the helper exits with berthd, even when berthd is killed', async () => {
    const helper = helperOf(d)!;
    d.kill9();
    await waitFor(async () => !alive(helper), 5_000);
    await d.launch();
    assert.ok(helperOf(d), 'the restarted berthd has its own helper');
  });
});
