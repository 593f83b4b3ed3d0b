import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, StdDemuxer, StdStream } from './stdcopy.js';

test('frames match the bytes dockerd sends', () => {
  assert.deepEqual([...frame(StdStream.Stdout, Buffer.from('out\n'))], [1, 0, 0, 0, 0, 0, 0, 4, ...Buffer.from('out\n')]);
  assert.deepEqual([...frame(StdStream.Stderr, Buffer.from('err\n'))].slice(0, 8), [2, 0, 0, 0, 0, 0, 0, 4]);
});

test('demuxer reassembles frames split across arbitrary chunks', () => {
  const wire = Buffer.concat([frame(StdStream.Stdout, Buffer.from('hello ')), frame(StdStream.Stderr, Buffer.from('oops')), frame(StdStream.Stdout, Buffer.from('world'))]);
  const got: string[] = [];
  const d = new StdDemuxer((s, p) => got.push(`${s}:${p}`));
  for (let i = 0; i < wire.length; i += 3) d.push(wire.subarray(i, i + 3));
  assert.deepEqual(got, ['1:hello ', '2:oops', '1:world']);
  assert.equal(d.pending, 0);
});
