import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { acceptValue, CloseCode, encodeFrame, FrameDecoder, FrameError, Opcode, WebSocketConnection, websocketKey, type Frame } from './websocket.js';

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

test('the accept value is the one of RFC 6455 §1.3', () => {
  assert.equal(acceptValue(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('a handshake needs Upgrade: websocket, Connection: upgrade, version 13 and a 16-byte key', () => {
  const good = { upgrade: 'WebSocket', connection: 'keep-alive, Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': KEY };
  assert.equal(websocketKey(good), KEY);
  for (const bad of [
    { ...good, upgrade: 'tcp' },
    { ...good, connection: 'keep-alive' },
    { ...good, 'sec-websocket-version': '8' },
    { ...good, 'sec-websocket-key': 'c2hvcnQ=' },
  ]) {
    assert.throws(() => websocketKey(bad), (e: Error & { code?: string }) => e.code === 'websocket.bad_handshake');
  }
});

test('frames of every length class survive encode and decode, masked or not, fed byte by byte', () => {
  for (const n of [0, 1, 125, 126, 65535, 65536, 200_000]) {
    const payload = Buffer.alloc(n, n % 251);
    for (const mask of [undefined, MASK]) {
      const wire = encodeFrame(Opcode.Binary, payload, mask ? { mask } : {});
      const d = new FrameDecoder({ requireMask: !!mask });
      const frames: Frame[] = [];
      if (n < 1000) for (const byte of wire) frames.push(...d.push(Buffer.from([byte])));
      else frames.push(...d.push(wire.subarray(0, 7)), ...d.push(wire.subarray(7)));
      assert.equal(frames.length, 1, `length ${n}`);
      assert.equal(frames[0]!.opcode, Opcode.Binary);
      assert.equal(frames[0]!.fin, true);
      assert.ok(frames[0]!.payload.equals(payload), `length ${n}`);
    }
  }
  // the example of RFC 6455 §5.7: a masked "Hello"
  const hello = Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  assert.deepEqual(encodeFrame(Opcode.Text, Buffer.from('Hello'), { mask: MASK }), hello);
  assert.equal(new FrameDecoder({ requireMask: true }).push(hello)[0]!.payload.toString(), 'Hello');
});

test('protocol errors: unmasked client frames, reserved bits, long or fragmented control frames, oversized frames', () => {
  const fails = (wire: Buffer, code: number, o: { maxPayload?: number } = {}) =>
    assert.throws(() => new FrameDecoder({ requireMask: true, ...o }).push(wire), (e: unknown) => e instanceof FrameError && e.code === code);
  fails(encodeFrame(Opcode.Text, Buffer.from('x')), CloseCode.ProtocolError);
  const rsv = encodeFrame(Opcode.Text, Buffer.from('x'), { mask: MASK });
  rsv[0]! |= 0x40;
  fails(rsv, CloseCode.ProtocolError);
  fails(encodeFrame(Opcode.Ping, Buffer.alloc(126), { mask: MASK }), CloseCode.ProtocolError);
  fails(encodeFrame(Opcode.Ping, Buffer.alloc(1), { mask: MASK, fin: false }), CloseCode.ProtocolError);
  fails(encodeFrame(Opcode.Binary, Buffer.alloc(2000), { mask: MASK }), CloseCode.TooBig, { maxPayload: 1000 });
  fails(Buffer.from([0x83, 0x80, 0, 0, 0, 0]), CloseCode.ProtocolError); // opcode 3 is reserved
});

/** A connected pair over a unix socket: the server end wrapped, the raw client end. */
async function pair(binary = true): Promise<{ ws: WebSocketConnection; client: Socket; frames: () => Promise<Frame> }> {
  const path = `/tmp/berth-ws-test-${process.pid}-${Math.random().toString(16).slice(2)}.sock`;
  const server = createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => server.listen(path, () => r()));
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect(path);
  const [socket] = await accepted;
  const ws = new WebSocketConnection(socket, { binary });
  const decoder = new FrameDecoder({ requireMask: false });
  const queue: Frame[] = [];
  const waiters: ((f: Frame) => void)[] = [];
  client.on('data', (c: Buffer) => {
    for (const f of decoder.push(c)) {
      const w = waiters.shift();
      if (w) w(f);
      else queue.push(f);
    }
  });
  const frames = () => new Promise<Frame>((r) => (queue.length ? r(queue.shift()!) : waiters.push(r)));
  open.push({ server, client });
  return { ws, client, frames };
}

const open: { server: Server; client: Socket }[] = [];
after(() => {
  for (const { server, client } of open) {
    client.destroy();
    server.close();
  }
});

test('data frames reach input, fragments joined; ping is answered; Close ends input; close() sends 1000', async () => {
  const { ws, client, frames } = await pair();
  let input = '';
  ws.input.on('data', (c: Buffer) => (input += c.toString('latin1')));
  const ended = once(ws.input, 'end');
  client.write(encodeFrame(Opcode.Text, Buffer.from('he'), { mask: MASK, fin: false }));
  client.write(encodeFrame(Opcode.Continuation, Buffer.from('llo '), { mask: MASK }));
  client.write(encodeFrame(Opcode.Ping, Buffer.from('p1'), { mask: MASK }));
  client.write(encodeFrame(Opcode.Binary, Buffer.from([0x00, 0xff]), { mask: MASK }));
  const pong = await frames();
  assert.deepEqual([pong.opcode, pong.payload.toString()], [Opcode.Pong, 'p1']);
  ws.send(Buffer.from('out'));
  const out = await frames();
  assert.deepEqual([out.opcode, out.payload.toString()], [Opcode.Binary, 'out']);
  client.write(encodeFrame(Opcode.Close, Buffer.from([0x03, 0xe8]), { mask: MASK }));
  await ended;
  assert.equal(input, 'hello \u0000\u00ff');
  ws.close();
  const close = await frames();
  assert.deepEqual([close.opcode, close.payload.readUInt16BE(0)], [Opcode.Close, 1000]);
  client.destroy();
});

test('text frames before API 1.28; an unmasked client frame closes with 1002', async () => {
  const { ws, client, frames } = await pair(false);
  ws.send(Buffer.from('t'));
  assert.equal((await frames()).opcode, Opcode.Text);
  client.write(encodeFrame(Opcode.Text, Buffer.from('x')));
  const close = await frames();
  assert.deepEqual([close.opcode, close.payload.readUInt16BE(0)], [Opcode.Close, CloseCode.ProtocolError]);
  client.destroy();
});
