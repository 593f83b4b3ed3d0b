import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { writeLogStream } from '../server/log-stream.js';
import { readLogs, type LogQuery } from './read.js';
import { logWire } from './wire-reader.js';
import type { WireFormat } from './wire-encoder.js';
import { StdDemuxer } from '../../api/stdcopy.js';

let dir: string;
let path: string;
const T0 = Date.parse('2026-12-06T10:00:00Z');
const time = (i: number) => new Date(T0 + i * 1000).toISOString().replace('Z', '') + `${String(i % 1_000_000).padStart(6, '0')}Z`;
const entry = (i: number) => `{"log":${JSON.stringify(i % 7 === 0 ? `tab\there ${i} ü\n` : `line ${i}\n`)},"stream":"${i % 5 === 0 ? 'stderr' : 'stdout'}","time":"${time(i)}"}\n`;
const ns = (i: number) => BigInt(T0 + i * 1000) * 1_000_000n;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-wire-'));
  path = join(dir, 'c-json.log');
  // a rotated file, then a live file bigger than one read (1 MiB), ending in a torn line
  await writeFile(`${path}.1`, Array.from({ length: 100 }, (_, i) => entry(i)).join(''));
  const live: string[] = [];
  for (let i = 100; i < 30_100; i++) live.push(entry(i));
  await writeFile(path, live.join(''));
  await appendFile(path, '{"log":"torn');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(c);
  return Buffer.concat(out);
}

/** The old path: entries from readLogs, framed one by one. */
async function entryPath(q: LogQuery, f: WireFormat): Promise<Buffer> {
  const out = new PassThrough();
  const bytes = collect(out);
  await writeLogStream(out, readLogs(path, undefined, q, new AbortController().signal), f, new AbortController().signal);
  return bytes;
}

const plain: WireFormat = { tty: false, timestamps: false, details: false };
const queries: [string, LogQuery, WireFormat][] = [
  ['everything', { follow: false }, plain],
  ['--tail 1', { follow: false, tail: 1 }, plain],
  ['--tail 3 of stderr only', { follow: false, tail: 3, stdout: false }, plain],
  ['--tail across the read blocks', { follow: false, tail: 25_000 }, plain],
  ['--tail reaching into the rotated file', { follow: false, tail: 30_010 }, plain],
  ['--tail more than there is', { follow: false, tail: 1_000_000 }, plain],
  ['--tail 0', { follow: false, tail: 0 }, plain],
  ['--since', { follow: false, sinceNs: ns(29_000) }, plain],
  ['--since --until --tail', { follow: false, sinceNs: ns(50), untilNs: ns(20_000), tail: 10 }, plain],
  ['-t --details on a tty', { follow: false, tail: 20 }, { tty: true, timestamps: true, details: true }],
  ['-t', { follow: false, untilNs: ns(300) }, { tty: false, timestamps: true, details: false }],
];

for (const [name, q, f] of queries) {
  test(`logs ${name}: the same bytes as entry by entry`, async () => {
    const want = await entryPath(q, f);
    const got = await collect(logWire(path, undefined, q, f, new AbortController().signal));
    assert.ok(got.equals(want), `${name}: ${got.length} bytes, want ${want.length}`);
  });
}

/** Per stream, the bytes a client that copies frame payloads (the docker CLI's stdcopy) prints. */
function demuxed(bytes: Buffer): string[] {
  const by = ['', '', ''];
  const d = new StdDemuxer((s, p) => (by[s] += p.toString('latin1')));
  d.push(bytes);
  assert.equal(d.pending, 0);
  return by;
}

for (const [name, q, f] of queries.filter(([, , f]) => !f.tty)) {
  test(`logs ${name}, coalesced for the docker CLI: the same bytes on stdout and stderr`, async () => {
    const want = demuxed(await entryPath(q, f));
    const got = await collect(logWire(path, undefined, q, { ...f, coalesce: true }, new AbortController().signal));
    assert.deepEqual(demuxed(got), want, name);
  });
}

test('logs --tail 2 gives the last two whole lines', async () => {
  const got = await collect(logWire(path, undefined, { follow: false, tail: 2 }, { tty: true, timestamps: false, details: false }, new AbortController().signal));
  assert.equal(got.toString(), 'line 30098\nline 30099\n');
});

test('a missing log file is an empty log', async () => {
  const got = await collect(logWire(join(dir, 'none.log'), undefined, { follow: false, tail: 5 }, plain, new AbortController().signal));
  assert.equal(got.length, 0);
});
