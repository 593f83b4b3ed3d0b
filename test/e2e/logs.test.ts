/**
 * The json-file driver through the docker CLI: 100k lines lose none,
 * max-size/max-file rotation keeps the disk bounded and `logs` (with
 * --tail, and -f across rotations) reads across the rotated files; bad
 * log options fail the create.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER, TestDaemon } from '../support/daemon.js';

describe('logs', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  const ok = (args: string[]) => d.dockerOk(args, { timeoutMs: 120_000 });
  const logFiles = (id: string) => readdirSync(join(d.dataRoot, 'containers', id)).filter((n) => n.includes('-json.log')).sort();

  test('100k lines written quickly: every one is kept, in order', async () => {
    const id = (await ok(['run', '-d', 'busybox', 'seq', '1', '100000'])).trim();
    await ok(['wait', id]);
    const lines = (await ok(['logs', id])).split('\n').filter(Boolean);
    assert.equal(lines.length, 100000);
    assert.equal(lines[0], '1');
    assert.equal(lines.at(-1), '100000');
    assert.deepEqual((await ok(['logs', '--tail', '3', id])).split('\n').filter(Boolean), ['99998', '99999', '100000']);
  });

  test('a big log with --tail, --since, --until and -t: the right lines, whole', async () => {
    const id = (await ok(['run', '-d', 'busybox', 'sh', '-c', 'echo err >&2; sleep 0.5; seq 1 30000; sleep 1.2; seq 30001 60000'])).trim();
    await ok(['wait', id]);
    const all = await d.docker(['logs', '-t', id]);
    const stamped = all.stdout.split('\n').filter(Boolean);
    assert.equal(stamped.length, 60000);
    assert.match(stamped[59999]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z 60000$/);
    assert.match(all.stderr, /^\S+Z err\n$/); // its own stream, framed apart
    assert.deepEqual((await ok(['logs', '--tail', '2', id])).split('\n').filter(Boolean), ['59999', '60000']);
    const r = await d.docker(['logs', '--tail', '60000', id]);
    assert.equal(r.stderr, '', 'the 60001st line from the end is not in the last 60000');
    // --since the first line after the pause: exactly the second half
    const since = stamped[30000]!.split(' ')[0]!;
    const after = (await ok(['logs', '--since', since, id])).split('\n').filter(Boolean);
    assert.equal(after.length, 30000);
    assert.equal(after[0], '30001');
    const until = stamped[29999]!.split(' ')[0]!;
    const before = (await ok(['logs', '--until', until, '--tail', '3', id])).split('\n').filter(Boolean);
    assert.deepEqual(before, ['29998', '29999', '30000']);
  });

  test('max-size and max-file rotate: bounded files, logs read across them', async () => {
    const id = (await ok(['run', '-d', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', 'for i in $(seq 1 3000); do echo line-$i; done'])).trim();
    await ok(['wait', id]);
    const files = logFiles(id);
    assert.deepEqual(files, [`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2`]);
    for (const f of files) assert.ok(statSync(join(d.dataRoot, 'containers', id, f)).size <= 10 * 1024, f);
    const lines = (await ok(['logs', id])).split('\n').filter(Boolean);
    assert.equal(lines.at(-1), 'line-3000');
    assert.ok(lines.length > 250 && lines.length < 3000, String(lines.length)); // ~80-byte entries, 3 files of 10k
    // contiguous: the oldest kept line and every one after it
    const first = Number(lines[0]!.slice(5));
    assert.deepEqual(lines, Array.from({ length: 3000 - first + 1 }, (_, i) => `line-${first + i}`));
    assert.deepEqual((await ok(['logs', '--tail', '2', id])).split('\n').filter(Boolean), ['line-2999', 'line-3000']);
  });

  test('logs -f follows across rotations without losing a line', async () => {
    // the burst starts once the follower has seen the first line, and max-file keeps every file, so the
    // follower must cross each rotation itself (a follower slower than max-file's window loses files, as in Docker)
    const go = join(d.dir, 'follow-go');
    const id = (await ok(['run', '-d', '-v', `${d.dir}:/s`, '--log-opt', 'max-size=2k', '--log-opt', 'max-file=30', 'busybox', 'sh', '-c',
      'echo ready; while [ ! -e /s/follow-go ]; do sleep 0.05; done; for i in $(seq 1 400); do echo follow-$i; [ $((i % 50)) -eq 0 ] && sleep 0.05; done'])).trim();
    const logs = spawn(DOCKER, ['logs', '-f', id], { env: d.env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    logs.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.startsWith('ready\n') && !existsSync(go)) writeFileSync(go, '');
    });
    const code = await new Promise<number | null>((r) => logs.once('close', r));
    assert.equal(code, 0);
    assert.deepEqual(out.split('\n').filter(Boolean), ['ready', ...Array.from({ length: 400 }, (_, i) => `follow-${i + 1}`)]);
    const files = logFiles(id).length;
    assert.ok(files >= 12 && files < 30, String(files)); // ~25 lines a file: every rotation kept
  });

  test('bad log options fail the run (125) with the reason', async () => {
    for (const [opts, message] of [
      [['--log-opt', 'max-file=3'], /max-file cannot be set without max-size/],
      [['--log-opt', 'max-size=huge'], /invalid max-size: huge/],
      [['--log-opt', 'colour=blue'], /unknown log opt 'colour' for json-file log driver/],
      [['--log-driver', 'splunk'], /no log driver named 'splunk'/],
    ] as [string[], RegExp][]) {
      const r = await d.docker(['run', '--rm', ...opts, 'busybox', 'true']);
      assert.equal(r.code, 125, opts.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
