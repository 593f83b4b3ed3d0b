import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StdDemuxer } from '../../api/stdcopy.js';
import { LogWireEncoder, MAX_FRAME, scanLine, unescapeInto } from './wire-encoder.js';

const line = (log: string, stream = 'stdout', time = '2026-12-06T15:52:45.123456789Z') => `{"log":${JSON.stringify(log)},"stream":"${stream}","time":"${time}"}\n`;

function frames(bytes: Buffer): [number, string][] {
  const out: [number, string][] = [];
  const d = new StdDemuxer((s, p) => out.push([s, p.toString()]));
  d.push(bytes);
  assert.equal(d.pending, 0);
  return out;
}

test('a json-file string is unescaped byte for byte as JSON.parse does', () => {
  const samples = ['plain\n', 'tab\there "q" back\\slash /\r\n', '\u0000\u0001\u001f\u007f', 'üñï €uro 😀 \ud800 lone', '\\u0041 not an escape', ''];
  for (const s of samples) {
    const json = Buffer.from(JSON.stringify(s));
    const dst = Buffer.alloc(json.length);
    const end = unescapeInto(json, 1, json.length - 1, dst, 0);
    assert.equal(dst.subarray(0, end).toString('hex'), Buffer.from(s).toString('hex'), JSON.stringify(s));
  }
  assert.equal(unescapeInto(Buffer.from('bad \\x'), 0, 6, Buffer.alloc(6), 0), -1);
});

test("berthd's own lines are read in place; others are not", () => {
  const r = { stream: 1 as 1 | 2, logStart: 0, logEnd: 0, timeStart: 0, timeEnd: 0 };
  const own = Buffer.from(line('a "b"\n', 'stderr').trimEnd());
  assert.ok(scanLine(own, 0, own.length, r));
  assert.equal(r.stream, 2);
  assert.equal(own.toString('utf8', r.timeStart, r.timeEnd), '2026-12-06T15:52:45.123456789Z');
  assert.equal(own.toString('utf8', r.logStart, r.logEnd), 'a \\"b\\"\\n');
  for (const other of ['{"log":"x","stream":"stdout","attrs":{"a":"b"},"time":"t"}', '{"log":"torn', '{"stream":"stdout","log":"x","time":"t"}', '']) {
    assert.equal(scanLine(Buffer.from(other), 0, other.length, r), false, other);
  }
});

test('each entry becomes one stdcopy frame, a chunk of lines one buffer', () => {
  const enc = new LogWireEncoder({ tty: false, timestamps: false, details: false }, {});
  const text = line('one\n') + line('two\n', 'stderr') + '\n' + line('ü\u0001\n');
  assert.deepEqual(frames(enc.encode(Buffer.from(text), 0, text.length)), [[1, 'one\n'], [2, 'two\n'], [1, 'ü\u0001\n']]);
});

test('timestamps and details come before the text; a tty gets raw bytes', () => {
  const t = '2026-12-06T15:52:45.000000001Z';
  const text = line('hi\n', 'stdout', t) + '{"log":"x\\n","stream":"stderr","attrs":{"k":"v"},"time":"' + t + '"}\n';
  const b = Buffer.from(text);
  const both = new LogWireEncoder({ tty: false, timestamps: true, details: true }, {});
  assert.deepEqual(frames(both.encode(b, 0, b.length)), [[1, `${t}  hi\n`], [2, `${t} k=v x\n`]]);
  const tty = new LogWireEncoder({ tty: true, timestamps: false, details: false }, {});
  assert.equal(tty.encode(b, 0, b.length).toString(), 'hi\nx\n');
});

test('streams, since and until filter entries; a torn line is skipped', () => {
  const at = (s: number) => `2026-12-06T15:52:${String(s).padStart(2, '0')}.000000000Z`;
  const text = line('a\n', 'stdout', at(1)) + line('b\n', 'stderr', at(2)) + '{"log":"torn' + '\n' + line('c\n', 'stdout', at(3)) + line('d\n', 'stdout', '2026-12-06T15:52:04Z');
  const b = Buffer.from(text);
  const ns = (s: number) => BigInt(Date.parse(`2026-12-06T15:52:${String(s).padStart(2, '0')}Z`)) * 1_000_000n;
  const pick = (q: ConstructorParameters<typeof LogWireEncoder>[1]) => frames(new LogWireEncoder({ tty: false, timestamps: false, details: false }, q).encode(b, 0, b.length)).map(([, p]) => p.trim()).join('');
  assert.equal(pick({}), 'abcd');
  assert.equal(pick({ stderr: false }), 'acd');
  assert.equal(pick({ stdout: false }), 'b');
  assert.equal(pick({ sinceNs: ns(2) }), 'bcd');
  assert.equal(pick({ untilNs: ns(3) }), 'abc');
  assert.equal(pick({ sinceNs: ns(2) + 1n, untilNs: ns(4) }), 'cd');
  const enc = new LogWireEncoder({ tty: false, timestamps: false, details: false }, { untilNs: ns(2) });
  enc.encode(b, 0, b.length);
  assert.equal(enc.pastUntil, true);
});

test('coalesced: consecutive lines of a stream share a frame, a stream change or MAX_FRAME starts the next', () => {
  const text = line('one\n') + line('two\n') + line('err\n', 'stderr') + line('three\n') + '{"log":"x\\n","stream":"stdout","attrs":{"k":"v"},"time":"t"}\n' + line('four\n');
  const b = Buffer.from(text);
  const enc = new LogWireEncoder({ tty: false, timestamps: false, details: false, coalesce: true }, {});
  assert.deepEqual(frames(enc.encode(b, 0, b.length)), [[1, 'one\ntwo\n'], [2, 'err\n'], [1, 'three\nx\nfour\n']]);
  const many = Buffer.from(Array.from({ length: 20_000 }, (_, i) => line(`${i}\n`, i % 1000 === 999 ? 'stderr' : 'stdout')).join(''));
  const out = frames(new LogWireEncoder({ tty: false, timestamps: true, details: false, coalesce: true }, {}).encode(many, 0, many.length));
  assert.ok(out.every(([, p]) => Buffer.byteLength(p) <= MAX_FRAME), 'no frame over MAX_FRAME');
  assert.ok(out.length < 200, `${out.length} frames for 20000 lines`);
  const one = frames(new LogWireEncoder({ tty: false, timestamps: true, details: false }, {}).encode(many, 0, many.length));
  for (const s of [1, 2]) {
    assert.equal(out.filter(([t]) => t === s).map(([, p]) => p).join(''), one.filter(([t]) => t === s).map(([, p]) => p).join(''), `stream ${s}: the same bytes`);
  }
});

test('coalesced: a line that only looked like berthd\'s goes through JSON.parse in its place', () => {
  const t = '2026-12-06T15:52:45.000000001Z';
  const odd = `{"log":"a\\x","stream":"stdout","time":"${t}"}\n`; // not JSON: skipped, as JSON.parse would
  const text = line('one\n', 'stdout', t) + odd + line('two\n', 'stderr', t) + odd + line('three\n', 'stderr', t);
  const b = Buffer.from(text);
  const enc = new LogWireEncoder({ tty: false, timestamps: false, details: false, coalesce: true }, {});
  const out = frames(enc.encode(b, 0, b.length));
  assert.equal(out.filter(([s]) => s === 1).map(([, p]) => p).join(''), 'one\n');
  assert.equal(out.filter(([s]) => s === 2).map(([, p]) => p).join(''), 'two\nthree\n');
});
