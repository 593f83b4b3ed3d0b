import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { JsonFileWriter } from '../logs/json-file.js';
import { ContainerStreams, type Attachment } from './streams.js';

function client(): Attachment & { out: string; ended: boolean } {
  const c = {
    out: '', ended: false, stdout: true, stderr: true,
    sink: (_s: string, data: Buffer) => ((c.out += data.toString()), true),
    drained: () => Promise.resolve(),
    onEnd: () => (c.ended = true),
  };
  return c;
}

async function withLog(fn: (log: JsonFileWriter) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-streams-'));
  const log = await JsonFileWriter.open(join(dir, 'log.json'));
  try {
    await fn(log);
  } finally {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function run(s: ContainerStreams, log: JsonFileWriter): { stdout: PassThrough; stderr: PassThrough; done: Promise<void> } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const done = s.connect({ stdout, stderr }, log, { stdinOnce: false, tty: false, closeStdin: async () => {} });
  return { stdout, stderr, done };
}

test('a client attached during a run gets the rest of it and its end', () =>
  withLog(async (log) => {
    const s = new ContainerStreams();
    const r = run(s, log);
    const c = client();
    s.attach(c);
    r.stdout.end('hi\n');
    r.stderr.end();
    await r.done;
    s.endRun();
    assert.deepEqual([c.out, c.ended], ['hi\n', true]);
  }));

test('a client attached after the run\'s output ended, before its exit was recorded, gets the next run (compose one-offs)', () =>
  withLog(async (log) => {
    const s = new ContainerStreams();
    const first = run(s, log);
    first.stdout.end('first\n');
    first.stderr.end();
    await first.done;
    const c = client();
    s.attach(c); // the exit is not recorded yet
    s.endRun();
    assert.deepEqual([c.out, c.ended], ['', false], 'still attached, waiting for the next run');
    const second = run(s, log);
    second.stdout.end('second\n');
    second.stderr.end();
    await second.done;
    s.endRun();
    assert.deepEqual([c.out, c.ended], ['second\n', true]);
  }));

test('endAll ends every client, those waiting for the next run too', () =>
  withLog(async (log) => {
    const s = new ContainerStreams();
    const r = run(s, log);
    r.stdout.end();
    r.stderr.end();
    await r.done;
    const c = client();
    s.attach(c);
    s.endAll();
    assert.equal(c.ended, true);
  }));

test('settled waits for output that still flows past the idle grace, and cuts a pipe that stays quiet', () =>
  withLog(async (log) => {
    const s = new ContainerStreams();
    const r = run(s, log);
    // a slow drain: a line every 30 ms for 300 ms, longer than the 100 ms grace
    const writing = (async () => {
      for (let i = 0; i < 10; i++) {
        r.stdout.write(`line ${i}\n`);
        await new Promise((res) => setTimeout(res, 30));
      }
      r.stdout.end();
      r.stderr.end();
    })();
    const t0 = Date.now();
    await s.settled(r.done, 100, 5000);
    assert.ok(Date.now() - t0 >= 250, 'waited for the flowing output');
    await writing;

    // a pipe held open with nothing in it: cut after the grace, not the cap
    const s2 = new ContainerStreams();
    const r2 = run(s2, log);
    const t1 = Date.now();
    const alive = setInterval(() => {}, 1000); // settled's timer does not hold the loop (the daemon's server does)
    await s2.settled(r2.done, 100, 5000);
    clearInterval(alive);
    const took = Date.now() - t1;
    assert.ok(took >= 90 && took < 2000, String(took));
    r2.stdout.end();
    r2.stderr.end();
  }));
