import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { endFlushed } from '../../../lib/streams.js';
import { mkfifo, openFifoReader, StdinFifo } from './fifo.js';

async function withFifo(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-fifo-'));
  try {
    const path = join(dir, 'stdin');
    await mkfifo([path]);
    await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('stdin written and ended before the shim opens its reader reaches that reader, then EOF', () =>
  withFifo(async (path) => {
    const w = new StdinFifo(path);
    w.write('through-stdin\n');
    let flushed = false;
    const done = endFlushed(w).then(() => (flushed = true));
    await sleep(30);
    // the bytes must not be handed to a FIFO nobody reads: closing it then would drop them
    assert.equal(flushed, false, 'held until a reader exists');
    const reader = await openFifoReader(path);
    const chunks: Buffer[] = [];
    reader.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => reader.once('end', r));
    await done;
    w.destroy();
    await ended;
    assert.equal(Buffer.concat(chunks).toString(), 'through-stdin\n');
  }));

test('a stdin writer dropped before any reader appeared closes at once', () =>
  withFifo(async (path) => {
    const w = new StdinFifo(path);
    w.on('error', () => {});
    w.write('never read');
    const closed = new Promise((r) => w.once('close', r));
    await sleep(10);
    w.destroy();
    await closed;
  }));
