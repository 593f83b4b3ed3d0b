/**
 * Every byte of stdin reaches the process, at any size and on every route
 * (run -i, exec -i, attach, start -a -i), followed by EOF; output written
 * by a short-lived container reaches clients that attached before it ran.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER, TestDaemon, type Run } from '../support/daemon.js';
import { runInPty } from '../support/pty.js';

/** Counts and hashes its stdin inside busybox: prints the byte count and the md5, in either order. */
const COUNT_AND_HASH = ['sh', '-c', 'mkfifo /tmp/p; wc -c < /tmp/p & tee /tmp/p | md5sum; wait'];

interface Sample {
  path: string;
  size: number;
  md5: string;
}

/** The docker CLI with its stdin read from a file, as `docker ... < file` does. */
function dockerFromFile(d: TestDaemon, args: string[], file: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const fd = openSync(file, 'r');
    const child = spawn(DOCKER, args, { env: { ...process.env, ...d.env }, stdio: [fd, 'pipe', 'pipe'] });
    closeSync(fd);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout, stderr });
    });
  });
}

/** Parses COUNT_AND_HASH's output. */
function countAndHash(out: string): { size: number; md5: string } {
  const size = /^(\d+)$/m.exec(out)?.[1];
  const md5 = /^([0-9a-f]{32})\s+-$/m.exec(out)?.[1];
  return { size: size === undefined ? -1 : Number(size), md5: md5 ?? `no md5 in ${JSON.stringify(out.slice(0, 200))}` };
}

describe('stdio', () => {
  let d: TestDaemon;
  const samples = new Map<number, Sample>();
  const sample = (size: number): Sample => samples.get(size)!;

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    for (const size of [0, 1, 65535, 65536, 65537, 5_000_000]) {
      const data = randomBytes(size);
      const path = join(d.dir, `in-${size}`);
      writeFileSync(path, data);
      samples.set(size, { path, size, md5: createHash('md5').update(data).digest('hex') });
    }
  });
  after(async () => {
    await d?.destroy();
  });

  const expectAll = (r: Run, s: Sample) => {
    assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
    assert.deepEqual(countAndHash(r.stdout), { size: s.size, md5: s.md5 }, r.stderr);
  };

  test('run -i passes every byte of stdin, then EOF, at any size', async () => {
    for (const size of [0, 1, 65535, 65536, 65537, 5_000_000]) {
      expectAll(await dockerFromFile(d, ['run', '-i', '--rm', 'busybox', ...COUNT_AND_HASH], sample(size).path), sample(size));
    }
  });

  test('run -i passes 200 MB of stdin', async () => {
    // generated as it is hashed: nothing of this size is held in memory
    const path = join(d.dir, 'in-200m');
    const hash = createHash('md5');
    const out = createWriteStream(path);
    const chunk = randomBytes(1 << 20);
    for (let i = 0; i < 200; i++) {
      chunk.writeUInt32BE(i, 0);
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
    expectAll(await dockerFromFile(d, ['run', '-i', '--rm', 'busybox', ...COUNT_AND_HASH], path, 120_000), { path, size: 200 << 20, md5: hash.digest('hex') });
  });

  test('exec -i passes every byte of stdin, then EOF', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'exec-target', 'busybox', 'sleep', '300'])).code, 0);
    for (const size of [0, 1, 65536, 65537, 5_000_000]) {
      expectAll(await dockerFromFile(d, ['exec', '-i', 'exec-target', ...COUNT_AND_HASH], sample(size).path), sample(size));
    }
    await d.docker(['rm', '-f', 'exec-target']);
  });

  test('start -a -i passes every byte of stdin, then EOF', async () => {
    for (const size of [0, 65537, 5_000_000]) {
      const c = await d.docker(['create', '-i', 'busybox', ...COUNT_AND_HASH]);
      const id = c.stdout.trim();
      expectAll(await dockerFromFile(d, ['start', '-a', '-i', id], sample(size).path), sample(size));
      await d.docker(['rm', id]);
    }
  });

  test('attach passes every byte of stdin, then EOF (stdin-once)', async () => {
    for (const size of [1, 65537, 5_000_000]) {
      const id = (await d.docker(['create', '-i', 'busybox', ...COUNT_AND_HASH])).stdout.trim();
      assert.equal((await d.docker(['start', id])).code, 0);
      expectAll(await dockerFromFile(d, ['attach', id], sample(size).path), sample(size));
      assert.equal((await d.docker(['wait', id])).stdout.trim(), '0');
      await d.docker(['rm', id]);
    }
  });

  test('run -it: bytes that survive a raw terminal all arrive', async () => {
    // printable text and newlines: a raw pty passes them unchanged (no ^C, ^D, ^P, \r)
    const text = Array.from({ length: 3000 }, (_, i) => `${i} ${randomBytes(48).toString('base64')}\n`).join('');
    const md5 = createHash('md5').update(text).digest('hex');
    const size = Buffer.byteLength(text);
    const r = await runInPty([DOCKER, 'run', '-it', '--rm', 'busybox', 'sh', '-c', `stty raw -echo; echo ready; head -c ${size} | md5sum`], [
      { waitFor: 'ready', send: text },
    ], { env: d.env, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.output.slice(-500));
    assert.match(r.output, new RegExp(`${md5}\\s+-`));
  });
});
