import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeResponse, decodeXattrs, encodeRequest, FrameReader, MAX_FRAME, Op } from './protocol.js';

function response(id: number, errno: number, code: number, signal: number, out: string, err: string): Buffer {
  const o = Buffer.from(out);
  const e = Buffer.from(err);
  const b = Buffer.alloc(4 + 24 + o.length + e.length);
  let at = b.writeUInt32LE(24 + o.length + e.length, 0);
  for (const v of [id, errno, code, signal]) at = b.writeInt32LE(v, at);
  at = b.writeUInt32LE(o.length, at);
  at += o.copy(b, at);
  at = b.writeUInt32LE(e.length, at);
  e.copy(b, at);
  return b;
}

test('a spawn request is length, id, op, flags, then length-prefixed strings', () => {
  const f = encodeRequest(7, { op: Op.Spawn, cmd: 'sh', argv: ['sh', '-c'], env: ['A=1'], input: Buffer.from('in'), detached: true });
  const expected = Buffer.concat([
    Buffer.from([7, 0, 0, 0, Op.Spawn, 3]),
    Buffer.from([2, 0, 0, 0]), Buffer.from('sh'), Buffer.from([0, 0, 0, 0]), // cmd, no cwd
    Buffer.from([2, 0, 0, 0]), Buffer.from([2, 0, 0, 0]), Buffer.from('sh'), Buffer.from([2, 0, 0, 0]), Buffer.from('-c'),
    Buffer.from([1, 0, 0, 0]), Buffer.from([3, 0, 0, 0]), Buffer.from('A=1'),
    Buffer.from([2, 0, 0, 0]), Buffer.from('in'),
  ]);
  assert.equal(f.readUInt32LE(0), expected.length);
  assert.deepEqual(f.subarray(4), expected);
});

test('no stdin clears the stdin flag; strings are UTF-8 byte counts', () => {
  const f = encodeRequest(1, { op: Op.Spawn, cmd: 'é', argv: ['é'], env: [] });
  assert.equal(f[9], 0, 'flags');
  assert.equal(f.readUInt32LE(10), 2, 'é is two bytes');
  const m = encodeRequest(2, { op: Op.Umount, target: '/x', flags: 2 });
  assert.deepEqual(m.subarray(4), Buffer.from([2, 0, 0, 0, Op.Umount, 2, 0, 0, 0, 0x2f, 0x78, 2, 0, 0, 0]));
});

test('output and input paths follow the stdin bytes, in that order, each with its flag', () => {
  const f = encodeRequest(3, { op: Op.Spawn, cmd: 'tar', argv: ['tar'], env: [], outputPath: '/o', inputPath: '/i' });
  assert.equal(f[9], 4 | 16, 'flags');
  const tail = Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from([2, 0, 0, 0]), Buffer.from('/o'), Buffer.from([2, 0, 0, 0]), Buffer.from('/i')]);
  assert.deepEqual(f.subarray(f.length - tail.length), tail);
});

test('the frame reader joins frames split across chunks and splits chunks holding several', () => {
  const a = response(1, 0, 0, 0, 'out', '');
  const b = response(2, 0, 3, 0, '', 'boom');
  const bytes = Buffer.concat([a, b]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const r = new FrameReader();
    const bodies = [...r.push(bytes.subarray(0, cut)), ...r.push(bytes.subarray(cut))];
    assert.deepEqual(bodies.map((x) => decodeResponse(x).id), [1, 2], `cut at ${cut}`);
  }
  const one = new FrameReader();
  const got = [...bytes].flatMap((byte) => one.push(Buffer.from([byte])));
  assert.equal(got.length, 2, 'byte by byte');
});

test('a response decodes to errno, exit code, signal and the two outputs; negative values stay negative', () => {
  const [body] = new FrameReader().push(response(9, 0, -1, 9, 'o', 'e'));
  assert.deepEqual(decodeResponse(body!), { id: 9, errno: 0, exitCode: -1, signal: 9, stdout: Buffer.from('o'), stderr: Buffer.from('e') });
});

test('a frame length past the limit is refused, and a truncated body does not decode', () => {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(MAX_FRAME + 1);
  assert.throws(() => new FrameReader().push(head), RangeError);
  const [body] = new FrameReader().push(response(1, 0, 0, 0, 'abc', ''));
  assert.throws(() => decodeResponse(body!.subarray(0, body!.length - 3)), RangeError);
});

test('an xattrs request is the count then the paths; its answer is a flag and a length-prefixed capability a path', () => {
  const f = encodeRequest(3, { op: Op.Xattrs, paths: ['/u/a', '/u/bé'] });
  assert.deepEqual([...f.subarray(4, 13)], [3, 0, 0, 0, Op.Xattrs, 2, 0, 0, 0]);
  assert.equal(f.subarray(13).toString('latin1'), '\x04\x00\x00\x00/u/a\x06\x00\x00\x00/u/b\xc3\xa9');
  const cap = Buffer.from([1, 0, 0, 2, 0x80, 4, 0, 0]);
  const answer = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), Buffer.from([0, cap.length, 0, 0, 0]), cap]);
  assert.deepEqual(decodeXattrs(answer, 2), [{ opaque: true }, { opaque: false, capability: cap }]);
  assert.throws(() => decodeXattrs(answer.subarray(0, 8), 2), /short xattrs answer/);
});
