import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { frame, StdStream } from '../../api/stdcopy.js';
import { writeLogStream, type LogLine } from './log-stream.js';

const entries: LogLine[] = [
  { log: 'out1\n', stream: 'stdout', time: '2026-12-06T07:53:34.153118488Z', attrs: { l1: 'v1', app: 'web' } },
  { log: 'err1\n', stream: 'stderr', time: '2026-12-06T07:53:34.219021932Z' },
];

async function* lines(list: LogLine[]): AsyncGenerator<LogLine> {
  yield* list;
}

async function written(tty: boolean, timestamps: boolean, details: boolean): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeLogStream(out, lines(entries), { tty, timestamps, details }, new AbortController().signal);
  assert.ok(out.writableEnded, 'the stream is ended');
  return Buffer.concat(chunks);
}

test('logs without a tty: one stdcopy frame per entry, on its own stream', async () => {
  assert.deepEqual(await written(false, false, false), Buffer.concat([frame(StdStream.Stdout, Buffer.from('out1\n')), frame(StdStream.Stderr, Buffer.from('err1\n'))]));
});

test('logs with a tty: the raw text, both streams together', async () => {
  assert.equal((await written(true, false, false)).toString(), 'out1\nerr1\n');
});

test('logs --timestamps --details: the time, then the attributes, then the text', async () => {
  assert.equal(
    (await written(true, true, true)).toString(),
    '2026-12-06T07:53:34.153118488Z l1=v1,app=web out1\n2026-12-06T07:53:34.219021932Z  err1\n',
  );
});

test('logs stop at the next entry once the client has left', async () => {
  const ac = new AbortController();
  const got: string[] = [];
  const out = new Writable({ write(chunk: Buffer, _enc, cb) { got.push(chunk.toString()); ac.abort(); cb(); } });
  await writeLogStream(out, lines(entries), { tty: true, timestamps: false, details: false }, ac.signal);
  assert.deepEqual(got, ['out1\n']);
});
