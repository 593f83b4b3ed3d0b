/**
 * Every byte of stdin reaches the process, at any size and on every route
 * (run -i, exec -i, attach, start -a -i), followed by EOF; output written
 * by a short-lived container reaches clients that attached before it ran.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { DOCKER, TestDaemon, type Run } from '../support/daemon.js';
import { runInPty } from '../support/pty.js';
import { encodeFrame, FrameDecoder, Opcode, type Frame } from '../../src/daemon/server/websocket.js';

/** Counts and hashes its stdin inside busybox: prints the byte count and the md5, in either order. */
const COUNT_AND_HASH = ['sh', '-c', 'mkfifo /tmp/p; wc -c < /tmp/p & tee /tmp/p | md5sum; wait'];

interface Sample {
  path: string;
  size: number;
  md5: string;
}

/** The docker CLI with its stdin read from a file, as `docker ... < file` does. */
function dockerFromFile(d: TestDaemon, args: string[], file: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const fd = openSync(file, 'r');
    const child = spawn(DOCKER, args, { env: { ...process.env, ...d.env }, stdio: [fd, 'pipe', 'pipe'] });
    closeSync(fd);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, stdout, stderr });
    });
  });
}

interface Hijacked {
  socket: Socket;
  /** Everything the daemon sent after the 101, once it ended the stream. */
  received: Promise<Buffer>;
}

/** `POST /containers/{id}/attach` hijacked the way docker-py's attach_socket does it (Upgrade: tcp). */
function hijackAttach(d: TestDaemon, id: string, query: string, version = '1.41'): Promise<Hijacked> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, method: 'POST', path: `/v${version}/containers/${id}/attach?${query}`, headers: { Connection: 'Upgrade', Upgrade: 'tcp' } });
    req.on('upgrade', (_res, socket, head) => {
      const chunks: Buffer[] = [head];
      socket.on('data', (c: Buffer) => chunks.push(c));
      const received = new Promise<Buffer>((r) => socket.once('end', () => r(Buffer.concat(chunks))));
      resolve({ socket, received });
    });
    req.on('response', (res) => reject(new Error(`attach answered ${res.statusCode} instead of 101`)));
    req.on('error', reject);
    req.end();
  });
}

/** The payloads of a multiplexed stream, per stream (1 stdout, 2 stderr). */
function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  for (let i = 0; i + 8 <= buf.length;) {
    const len = buf.readUInt32BE(i + 4);
    const text = buf.subarray(i + 8, i + 8 + len).toString();
    if (buf[i] === 2) out.stderr += text;
    else out.stdout += text;
    i += 8 + len;
  }
  return out;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms).unref())]);
}

/** A websocket client written by hand over the daemon's unix socket: frames in order, masked sends. */
interface WsClient {
  status: number;
  next(): Promise<Frame | undefined>;
  send(opcode: Opcode, payload: Buffer): void;
  socket: Socket;
}

function wsConnect(d: TestDaemon, path: string): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const req = request({ socketPath: d.socket, method: 'GET', path, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key } });
    req.on('upgrade', (res, socket, head) => {
      const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      if (res.headers['sec-websocket-accept'] !== accept) return reject(new Error('bad Sec-WebSocket-Accept'));
      const decoder = new FrameDecoder({ requireMask: false });
      const queue: (Frame | undefined)[] = [];
      const waiters: ((f: Frame | undefined) => void)[] = [];
      const deliver = (f: Frame | undefined) => {
        const w = waiters.shift();
        if (w) w(f);
        else queue.push(f);
      };
      const onData = (c: Buffer) => decoder.push(c).forEach(deliver);
      onData(head);
      socket.on('data', onData);
      socket.on('close', () => deliver(undefined));
      resolve({
        status: res.statusCode ?? 0,
        socket,
        next: () => new Promise((r) => (queue.length ? r(queue.shift()) : waiters.push(r))),
        send: (opcode, payload) => socket.write(encodeFrame(opcode, payload, { mask: randomBytes(4) })),
      });
    });
    req.on('response', (res) => reject(new Error(`attach/ws answered ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Parses COUNT_AND_HASH's output. */
function countAndHash(out: string): { size: number; md5: string } {
  const size = /^(\d+)$/m.exec(out)?.[1];
  const md5 = /^([0-9a-f]{32})\s+-$/m.exec(out)?.[1];
  return { size: size === undefined ? -1 : Number(size), md5: md5 ?? `no md5 in ${JSON.stringify(out.slice(0, 200))}` };
}

describe('stdio', () => {
  let d: TestDaemon;
  const samples = new Map<number, Sample>();
  const sample = (size: number): Sample => samples.get(size)!;

  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    for (const size of [0, 1, 65535, 65536, 65537, 5_000_000]) {
      const data = randomBytes(size);
      const path = join(d.dir, `in-${size}`);
      writeFileSync(path, data);
      samples.set(size, { path, size, md5: createHash('md5').update(data).digest('hex') });
    }
  });
  after(async () => {
    await d?.destroy();
  });

  const expectAll = (r: Run, s: Sample) => {
    assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
    assert.deepEqual(countAndHash(r.stdout), { size: s.size, md5: s.md5 }, r.stderr);
  };

  test('run -i passes every byte of stdin, then EOF, at any size', async () => {
    for (const size of [0, 1, 65535, 65536, 65537, 5_000_000]) {
      expectAll(await dockerFromFile(d, ['run', '-i', '--rm', 'busybox', ...COUNT_AND_HASH], sample(size).path), sample(size));
    }
  });

  test('run -i passes 200 MB of stdin', async () => {
    // generated as it is hashed: nothing of this size is held in memory
    const path = join(d.dir, 'in-200m');
    const hash = createHash('md5');
    const out = createWriteStream(path);
    const chunk = randomBytes(1 << 20);
    for (let i = 0; i < 200; i++) {
      chunk.writeUInt32BE(i, 0);
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
    expectAll(await dockerFromFile(d, ['run', '-i', '--rm', 'busybox', ...COUNT_AND_HASH], path, 120_000), { path, size: 200 << 20, md5: hash.digest('hex') });
  });

  test('exec -i passes every byte of stdin, then EOF', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'exec-target', 'busybox', 'sleep', '300'])).code, 0);
    for (const size of [0, 1, 65536, 65537, 5_000_000]) {
      expectAll(await dockerFromFile(d, ['exec', '-i', 'exec-target', ...COUNT_AND_HASH], sample(size).path), sample(size));
    }
    await d.docker(['rm', '-f', 'exec-target']);
  });

  test('start -a -i passes every byte of stdin, then EOF', async () => {
    for (const size of [0, 65537, 5_000_000]) {
      const c = await d.docker(['create', '-i', 'busybox', ...COUNT_AND_HASH]);
      const id = c.stdout.trim();
      expectAll(await dockerFromFile(d, ['start', '-a', '-i', id], sample(size).path), sample(size));
      await d.docker(['rm', id]);
    }
  });

  test('attach passes every byte of stdin, then EOF (stdin-once)', async () => {
    for (const size of [1, 65537, 5_000_000]) {
      const id = (await d.docker(['create', '-i', 'busybox', ...COUNT_AND_HASH])).stdout.trim();
      assert.equal((await d.docker(['start', id])).code, 0);
      expectAll(await dockerFromFile(d, ['attach', id], sample(size).path), sample(size));
      assert.equal((await d.docker(['wait', id])).stdout.trim(), '0');
      await d.docker(['rm', id]);
    }
  });

  test('run -it: bytes that survive a raw terminal all arrive', async () => {
    // printable text and newlines: a raw pty passes them unchanged (no ^C, ^D, ^P, \r)
    const text = Array.from({ length: 3000 }, (_, i) => `${i} ${randomBytes(48).toString('base64')}\n`).join('');
    const md5 = createHash('md5').update(text).digest('hex');
    const size = Buffer.byteLength(text);
    const r = await runInPty([DOCKER, 'run', '-it', '--rm', 'busybox', 'sh', '-c', `stty raw -echo; echo ready; head -c ${size} | md5sum`], [
      { waitFor: 'ready', send: text },
    ], { env: d.env, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.output.slice(-500));
    assert.match(r.output, new RegExp(`${md5}\\s+-`));
  });

  const create = async (body: object): Promise<string> => {
    const r = await d.http('POST', '/v1.41/containers/create', JSON.stringify({ Image: 'busybox', AttachStdout: true, AttachStderr: true, ...body }));
    assert.equal(r.status, 201, r.body);
    return (JSON.parse(r.body) as { Id: string }).Id;
  };
  const start = async (id: string) => assert.equal((await d.http('POST', `/v1.41/containers/${id}/start`)).status, 204);
  const running = async (id: string) => (JSON.parse((await d.http('GET', `/v1.41/containers/${id}/json`)).body) as { State: { Running: boolean } }).State.Running;

  test('attach before start gets all output of a process that exits at once', async () => {
    for (let i = 0; i < 2; i++) {
      const id = await create({ Cmd: ['sh', '-c', 'echo out; echo err >&2'] });
      const both = await hijackAttach(d, id, 'stream=1&stdout=1&stderr=1');
      const out = await hijackAttach(d, id, 'stream=1&stdout=1');
      const err = await hijackAttach(d, id, 'stream=1&stderr=1');
      await start(id);
      assert.deepEqual(demux(await within(both.received, 10_000, 'attach stdout+stderr')), { stdout: 'out\n', stderr: 'err\n' });
      assert.deepEqual(demux(await within(out.received, 10_000, 'attach stdout')), { stdout: 'out\n', stderr: '' });
      assert.deepEqual(demux(await within(err.received, 10_000, 'attach stderr')), { stdout: '', stderr: 'err\n' });
      await d.http('DELETE', `/v1.41/containers/${id}?force=1`);
    }
    const tty = await create({ Cmd: ['echo', 'hi'], Tty: true });
    const raw = await hijackAttach(d, tty, 'stream=1&stdout=1&stderr=1');
    await start(tty);
    assert.equal((await within(raw.received, 10_000, 'attach with a TTY')).toString(), 'hi\r\n');
    await d.http('DELETE', `/v1.41/containers/${tty}?force=1`);
  });

  test('an attach that arrives while an exit is being recorded waits for it, then gets the next run', async () => {
    // docker-compose's one-off run without the CLI: start, attach, inspect, start again if it already stopped
    const id = await create({ Cmd: ['echo', 'hi'] });
    const first = await hijackAttach(d, id, 'stream=1&stdout=1&stderr=1');
    await start(id);
    assert.equal(demux(await within(first.received, 10_000, 'first run')).stdout, 'hi\n');
    // the output has ended; the exit is being recorded
    const second = await hijackAttach(d, id, 'stream=1&stdout=1&stderr=1&logs=False');
    assert.equal(await running(id), false, 'once the attach is granted, the exit is recorded');
    await start(id);
    assert.equal(demux(await within(second.received, 10_000, 'second run')).stdout, 'hi\n');
    await d.http('DELETE', `/v1.41/containers/${id}?force=1`);
  });

  test('docker-compose run -T without the CLI (COMPOSE_INTERACTIVE_NO_CLI) prints the output', async () => {
    const dir = join(d.dir, 'proj');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'docker-compose.yml'), 'version: "3.8"\nservices:\n  svc:\n    image: busybox\n    network_mode: none\n');
    for (let i = 0; i < 2; i++) {
      const r = await new Promise<Run>((resolve) => {
        const p = spawn('docker-compose', ['run', '--rm', '-T', 'svc', 'echo', `hi-${i}`], { cwd: dir, env: { ...process.env, ...d.env, COMPOSE_INTERACTIVE_NO_CLI: '1' } });
        const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
        p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        p.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code: code ?? 128, stdout, stderr });
        });
      });
      // a hang (killed at 30 s) shows the daemon's last requests
      assert.equal(r.code, 0, `${r.stderr}\n${d.logs.split('\n').slice(-25).join('\n')}`);
      assert.equal(r.stdout, `hi-${i}\n`, r.stderr);
    }
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
  });

  test('attach/ws: output in binary frames, stdin from the client, Close as EOF, then our Close', async () => {
    const id = await create({ Cmd: ['sh', '-c', 'echo hi; cat; echo bye'], OpenStdin: true, StdinOnce: true, AttachStdin: true });
    const ws = await wsConnect(d, `/v1.47/containers/${id}/attach/ws?stream=1&stdin=1&stdout=1&stderr=1`);
    assert.equal(ws.status, 101);
    await start(id);
    const texts: string[] = [];
    const until = async (want: string) => {
      while (!texts.join('').includes(want)) {
        const f = await within(ws.next(), 10_000, `frame with ${want}`);
        assert.ok(f, `connection closed before ${JSON.stringify(want)}; got ${JSON.stringify(texts.join(''))}`);
        assert.equal(f.opcode, Opcode.Binary, 'API >= 1.28: binary frames');
        texts.push(f.payload.toString());
      }
    };
    await until('hi\n');
    ws.send(Opcode.Text, Buffer.from('echo-'));
    ws.send(Opcode.Binary, Buffer.from('me\n'));
    await until('echo-me\n');
    ws.send(Opcode.Ping, Buffer.from('p'));
    const pong = await within(ws.next(), 10_000, 'pong');
    assert.deepEqual([pong?.opcode, pong?.payload.toString()], [Opcode.Pong, 'p']);
    ws.send(Opcode.Close, Buffer.from([0x03, 0xe8]));
    await until('bye\n');
    const close = await within(ws.next(), 10_000, 'close frame');
    assert.deepEqual([close?.opcode, close?.payload.readUInt16BE(0)], [Opcode.Close, 1000]);
    assert.equal((await d.docker(['wait', id])).stdout.trim(), '0');
    ws.socket.destroy();
    await d.http('DELETE', `/v1.41/containers/${id}?force=1`);
  });

  test('attach/ws: text frames before API 1.28; 404 for a missing container; 400 without a handshake', async () => {
    const id = await create({ Cmd: ['echo', 'old'] });
    const ws = await wsConnect(d, `/v1.27/containers/${id}/attach/ws?stream=1`);
    await start(id);
    const f = await within(ws.next(), 10_000, 'frame');
    assert.deepEqual([f?.opcode, f?.payload.toString()], [Opcode.Text, 'old\n']);
    await d.http('DELETE', `/v1.41/containers/${id}?force=1`);
    await assert.rejects(wsConnect(d, '/v1.47/containers/nope/attach/ws?stream=1'), /answered 404/);
    assert.equal((await d.http('GET', `/v1.47/containers/${id}/attach/ws`)).status, 404);
    const plain = await create({ Cmd: ['true'] });
    assert.equal((await d.http('GET', `/v1.47/containers/${plain}/attach/ws?stream=1`)).status, 400);
    await d.http('DELETE', `/v1.41/containers/${plain}?force=1`);
  });

  test('nothing is left behind: no mounts, shims or cgroups', async () => {
    const ids = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await d.docker(['rm', '-f', ...ids]);
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });
});
