import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecError, run, runStreaming, spawnStdin, spawnStdout } from '../exec.js';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { readdir } from 'node:fs/promises';
import { SystemError } from '../../errdefs/index.js';
import { installSpawner, Spawner } from './client.js';
import { findSpawner } from './locate.js';
import { Op } from './protocol.js';

const helper = await findSpawner();
const skip = helper ? false : 'berth-spawner not built (npm run build)';

async function withSpawner<T>(fn: (s: Spawner) => Promise<T>): Promise<T> {
  const s = new Spawner(helper!);
  installSpawner(s);
  try {
    return await fn(s);
  } finally {
    installSpawner(undefined);
    s.close();
  }
}

test('run() through the helper: output, stdin, cwd, env, exit codes as with child_process', { skip }, () => withSpawner(async () => {
  assert.equal((await run('cat', [], { input: 'x'.repeat(300_000) })).stdout.length, 300_000);
  assert.equal((await run('sh', ['-c', 'pwd; echo $FOO'], { cwd: '/tmp', env: { FOO: 'bar', PATH: process.env.PATH } })).stdout, '/tmp\nbar\n');
  const failed = await run('sh', ['-c', 'echo why >&2; exit 3']).catch((e: unknown) => e);
  assert.ok(failed instanceof ExecError);
  assert.equal(failed.exitCode, 3);
  assert.equal(failed.stderr, 'why\n');
  const killed = await run('sh', ['-c', 'kill -TERM $$']).catch((e: unknown) => e);
  assert.ok(killed instanceof ExecError);
  assert.equal(killed.signal, 'SIGTERM');
  const missing = (await run('berth-no-such-program', []).then(() => assert.fail('ran'), (e: unknown) => e)) as NodeJS.ErrnoException;
  assert.equal(missing.code, 'ENOENT');
  assert.equal(missing.message, 'spawn berth-no-such-program ENOENT');
}));

test('programs get stdin, stdout and stderr only: no descriptor of the daemon or the helper', { skip }, () => withSpawner(async () => {
  // ls lists its own /proc/self/fd handle too: that one is the highest
  const fds = (await run('ls', ['/proc/self/fd'])).stdout.split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
  assert.deepEqual(fds, [0, 1, 2, 3]);
}));

test('a helper killed mid-request fails that request with spawner.exited, and the next request starts a new one', { skip }, () => withSpawner(async (s) => {
  s.start();
  const first = s.pid!;
  const inFlight = run('sleep', ['0.5']);
  setTimeout(() => process.kill(first, 'SIGKILL'), 50);
  const err = await inFlight.catch((e: unknown) => e);
  assert.ok(err instanceof SystemError);
  assert.equal(err.code, 'spawner.exited');
  assert.match(err.message, /exited \(killed by SIGKILL\) while running exec sleep/);
  assert.equal((await run('echo', ['again'])).stdout, 'again\n');
  assert.notEqual(s.pid, first);
}));

test('a worker killed before answering fails only its request, with spawner.exited; the helper goes on', { skip }, () => withSpawner(async (s) => {
  s.start();
  const inFlight = run('sleep', ['2']);
  let workers: string[] = [];
  // the worker appears once the helper has read the request
  for (let i = 0; i < 100 && !workers.length; i++) {
    await new Promise((r) => setTimeout(r, 20));
    workers = readFileSync(`/proc/${s.pid}/task/${s.pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
  }
  process.kill(Number(workers[0]), 'SIGKILL');
  const err = await inFlight.catch((e: unknown) => e);
  assert.ok(err instanceof SystemError, String(err));
  assert.equal(err.code, 'spawner.exited');
  assert.match(err.message, /worker killed by signal 9 while running exec sleep/);
  const helper = s.pid;
  assert.equal((await run('echo', ['on'])).stdout, 'on\n');
  assert.equal(s.pid, helper, 'the same helper');
}));

test('a helper that cannot start turns itself off, and run() falls back to child_process', async () => {
  const warnings: string[] = [];
  const s = new Spawner('/nonexistent/berth-spawner', { warn: (m) => warnings.push(m) });
  installSpawner(s);
  try {
    await assert.rejects(s.call({ op: Op.Umount, target: '/x', flags: 0 }, 'umount'), (e: SystemError) => e.code === 'spawner.exited');
    assert.equal(s.usable, false);
    assert.equal((await run('echo', ['fallback'])).stdout, 'fallback\n');
    assert.equal(warnings.length, 1);
  } finally {
    installSpawner(undefined);
  }
});

test('runStreaming through the helper: output arrives while the program runs, stderr with it; the exit code is returned', { skip }, () => withSpawner(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-stream-'));
  try {
    const chunks: string[] = [];
    let firstAt = 0;
    const started = Date.now();
    const code = await runStreaming('sh', ['-c', 'echo first; sleep 0.5; echo second >&2; exit 7'], {
      output: (b) => { if (!chunks.length) firstAt = Date.now() - started; chunks.push(b.toString()); },
      fifoPath: join(dir, 'out'), makeFifo: (path) => run('mkfifo', [path]).then(() => {}),
    });
    assert.equal(code, 7);
    assert.equal(chunks.join(''), 'first\nsecond\n');
    assert.ok(firstAt < 450, `the first line came at ${firstAt} ms, not before the exit`);
    assert.equal(await runStreaming('sh', ['-c', 'kill -KILL $$'], { output: () => {}, fifoPath: join(dir, 'out'), makeFifo: (path) => run('mkfifo', [path]).then(() => {}) }), 137);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}));

test('spawnStdout through the helper: stdout is the stream, stderr stays out of it and names a failure', { skip }, () => withSpawner(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-stream-'));
  try {
    const ok = await spawnStdout('sh', ['-c', 'echo data; echo noise >&2'], { path: join(dir, 'a') });
    let text = '';
    for await (const c of ok.stdout) text += (c as Buffer).toString();
    await ok.done;
    assert.equal(text, 'data\n');
    const bad = await spawnStdout('sh', ['-c', 'echo why >&2; exit 2'], { path: join(dir, 'b') });
    bad.stdout.resume();
    const err = await bad.done.catch((e: unknown) => e);
    assert.ok(err instanceof ExecError);
    assert.equal(err.stderr, 'why\n');
    const missing = await spawnStdout('berth-no-such-program', [], { path: join(dir, 'c') });
    assert.equal(((await missing.done.catch((e: unknown) => e)) as NodeJS.ErrnoException).code, 'ENOENT');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}));

test('spawnStdin through the helper: a stream past the pipe buffer reaches the program with its EOF; one that exits early or fails frees the writer', { skip }, () => withSpawner(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-stdin-'));
  try {
    const ok = await spawnStdin('sh', ['-c', `wc -c > ${dir}/count`], { path: join(dir, 'a') });
    await pipeline(Readable.from([Buffer.alloc(1 << 20, 1), Buffer.alloc(5, 2)]), ok.stdin);
    await ok.done;
    assert.equal(readFileSync(join(dir, 'count'), 'utf8').trim(), String((1 << 20) + 5));
    // all written and ended before the program opens its stdin: kept for it, then EOF
    const late = await spawnStdin('sh', ['-c', `sleep 0.2; cat > ${dir}/late`], { path: join(dir, 'd') });
    late.stdin.end('small input');
    await late.done;
    assert.equal(readFileSync(join(dir, 'late'), 'utf8'), 'small input');
    // exits without reading: the writer is destroyed, so a write waiting on a full FIFO cannot hang
    const early = await spawnStdin('sh', ['-c', 'echo why >&2; exit 3'], { path: join(dir, 'b') });
    const feeding = pipeline(Readable.from([Buffer.alloc(4 << 20)]), early.stdin).catch((e: unknown) => e);
    const err = await early.done.catch((e: unknown) => e);
    assert.ok(err instanceof ExecError);
    assert.equal(err.exitCode, 3);
    assert.equal(err.stderr, 'why\n');
    assert.equal(((await feeding) as NodeJS.ErrnoException).code, 'EPIPE', 'the feeding stream fails as a child_process stdin does');
    assert.equal(early.stop(), false, 'nothing to stop after the exit');
    // stop() while it reads: EOF, and the program ends
    const reading = await spawnStdin('cat', [], { path: join(dir, 'c') });
    reading.stdin.write('partial');
    assert.equal(reading.stop(), true);
    await reading.done;
    assert.deepEqual((await readdir(dir)).sort(), ['count', 'late'], 'every FIFO removed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}));
