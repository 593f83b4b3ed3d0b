import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { adaptiveGzip, entropy } from './adaptive-gzip.js';

async function gzipAll(parts: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of adaptiveGzip(Readable.from(parts))) out.push(c as Buffer);
  return Buffer.concat(out);
}

test('entropy tells random bytes from text', () => {
  assert.ok(entropy(randomBytes(65536)) > 7.9);
  assert.ok(entropy(Buffer.from('hello world, a line of text\n'.repeat(3000))) < 5);
  assert.equal(entropy(Buffer.alloc(0)), 0);
});

test('mixed input round-trips: text is compressed, random bytes are stored', async () => {
  const text = Buffer.from('compressible line of a config file\n'.repeat(150_000)); // ~5 MB
  const random = randomBytes(5 << 20);
  const parts: Buffer[] = [];
  for (const b of [text, random, text]) for (let i = 0; i < b.length; i += 1 << 20) parts.push(b.subarray(i, i + (1 << 20)));
  const gz = await gzipAll(parts);
  assert.deepEqual(gunzipSync(gz), Buffer.concat([text, random, text]));
  // random part stored (about its size), text parts shrunk to almost nothing
  assert.ok(gz.length < random.length + (1 << 20), `${gz.length}`);
  assert.ok(gz.length > random.length, `${gz.length}`);
});

test('an empty layer is one empty gzip member', async () => {
  const gz = await gzipAll([]);
  assert.equal(gunzipSync(gz).length, 0);
});

test('random bytes in small, odd-sized chunks are sampled across chunk ends and stored', async () => {
  const random = randomBytes(9 << 20);
  const parts: Buffer[] = [];
  for (let i = 0; i < random.length; i += 10_007) parts.push(random.subarray(i, i + 10_007));
  const gz = await gzipAll(parts);
  assert.deepEqual(gunzipSync(gz), random);
  assert.ok(gz.length < random.length + 4096, `stored, not deflated: ${gz.length}`);
});
