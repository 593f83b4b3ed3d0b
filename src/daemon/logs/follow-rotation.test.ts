/**
 * Followers across many rotations: a writer rotating every few lines while
 * two followers (the wire reader and the entry reader) read along must give
 * every line once, in order. Reading the live file by path lost or repeated
 * lines when a rotation renamed it between a size check and the read.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { JsonFileWriter } from './json-file.js';
import { readLogs } from './read.js';
import { logWire } from './wire-reader.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-follow-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LINES = 1000;

async function writeInBursts(w: JsonFileWriter): Promise<void> {
  let i = 0;
  let burst = 1;
  while (i < LINES) {
    for (let k = 0; k < burst && i < LINES; k++) w.write('stdout', Buffer.from(`line-${++i}\n`));
    burst = (burst * 7 + 3) % 23; // bursts of 0-22 lines: some fit the file, some rotate once or more
    await tick();
  }
  await w.close();
}

for (const maxFiles of [100]) {
  test(`follow across rotations (max-file ${maxFiles}): every line once, in order`, async () => {
    const path = join(dir, `f${maxFiles}-json.log`);
    const w = await JsonFileWriter.open(path, { maxSize: 2000, maxFiles });
    const signal = new AbortController().signal;
    const wire = (async () => {
      const out: Buffer[] = [];
      for await (const c of logWire(path, w, { follow: true }, { tty: true, timestamps: false, details: false }, signal)) out.push(c);
      return Buffer.concat(out).toString('utf8').split('\n').filter(Boolean);
    })();
    const entries = (async () => {
      const out: string[] = [];
      for await (const e of readLogs(path, w, { follow: true }, signal)) out.push(e.log.trimEnd());
      return out;
    })();
    await writeInBursts(w);
    const want = Array.from({ length: LINES }, (_, i) => `line-${i + 1}`);
    assert.deepEqual(await wire, want);
    assert.deepEqual(await entries, want);
  });
}
