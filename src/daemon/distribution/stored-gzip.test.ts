import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { storedGzipMember } from './stored-gzip.js';

test('stored members decode to their input, whatever the sizes and the split into parts', () => {
  for (const sizes of [[], [0], [1], [65535], [65536], [65535, 1], [100, 200_000, 3], [1 << 20, 1 << 20, 7]]) {
    const parts = sizes.map((n) => randomBytes(n));
    const size = sizes.reduce((a, b) => a + b, 0);
    const pieces = storedGzipMember(parts, size);
    const gz = Buffer.concat(pieces);
    assert.deepEqual(gunzipSync(gz), Buffer.concat(parts), `sizes ${sizes.join(',')}`);
    for (const piece of pieces) {
      assert.ok(piece.length <= 65535 + 15, 'no piece joins blocks');
      assert.ok(piece.length <= 18 || parts.some((p) => p.buffer === piece.buffer), 'the bytes are views of the parts, not copies');
    }
    assert.equal(gz.length, 18 + 5 * Math.max(1, Math.ceil(size / 65535)) + size, 'header, a 5-byte head per block, the bytes, the trailer');
  }
});

test('members concatenate into one gzip stream', () => {
  const a = randomBytes(70_000);
  const b = Buffer.from('text');
  assert.deepEqual(gunzipSync(Buffer.concat([...storedGzipMember([a], a.length), ...storedGzipMember([b], b.length)])), Buffer.concat([a, b]));
});

test('a corrupted byte fails the CRC', () => {
  const gz = Buffer.concat(storedGzipMember([Buffer.from('hello world')], 11));
  gz[20] ^= 0xff;
  assert.throws(() => gunzipSync(gz));
});
