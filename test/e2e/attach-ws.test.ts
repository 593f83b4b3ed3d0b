/**
 * `GET /containers/{id}/attach/ws` with a plain websocket client (the `ws`
 * package, as web tools use it): `logs=1` replays what the container wrote
 * before, `stream=1` follows it live after that replay, in order; without
 * `stream` the connection closes after the replay.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { TestDaemon } from '../support/daemon.js';

interface Received {
  text: string;
  binary: boolean;
  closeCode: number;
}

/** Connects to attach/ws over berthd's unix socket and gathers everything until the daemon closes. */
function attachWs(d: TestDaemon, path: string, onOpen?: () => void): Promise<Received> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${d.socket}:${path}`);
    let text = '';
    let binary = true;
    ws.on('open', () => onOpen?.());
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      text += data.toString();
      binary &&= isBinary;
    });
    ws.on('close', (closeCode) => resolve({ text, binary, closeCode }));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`attach/ws answered ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

describe('attach/ws', () => {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
  });
  after(async () => {
    await d?.destroy();
  });

  const ok = async (args: string[]) => (await d.dockerOk(args, { timeoutMs: 60_000 })).trim();
  const until = async (what: () => Promise<boolean>, label: string) => {
    for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await what()) return;
    assert.fail(`timed out waiting for ${label}`);
  };

  test('logs=1&stream=1: the earlier output first, then the live output, then Close 1000 at exit', async () => {
    // (a pause between the streams: stdout and stderr are two pipes, which the daemon may read in either order)
    const id = await ok(['run', '-d', 'busybox', 'sh', '-c', 'echo before; sleep 1; echo before-err >&2; sleep 2; echo after']);
    try {
      await until(async () => (await d.docker(['logs', id])).stderr.includes('before-err'), 'the first lines');
      const got = await attachWs(d, `/v1.47/containers/${id}/attach/ws?logs=1&stream=1&stdout=1&stderr=1`);
      assert.equal(got.text, 'before\nbefore-err\nafter\n');
      assert.equal(got.binary, true);
      assert.equal(got.closeCode, 1000);
    } finally {
      await ok(['rm', '-f', id]);
    }
  });

  test('logs=1 without stream: the log so far, then Close; stdout only when asked for stdout', async () => {
    const id = await ok(['run', '-d', 'busybox', 'sh', '-c', 'echo one; sleep 1; echo two >&2; sleep 30']);
    try {
      await until(async () => (await d.docker(['logs', id])).stderr.includes('two'), 'both lines');
      const both = await attachWs(d, `/v1.47/containers/${id}/attach/ws?logs=1&stdout=1&stderr=1`);
      assert.deepEqual([both.text, both.closeCode], ['one\ntwo\n', 1000]);
      const out = await attachWs(d, `/v1.47/containers/${id}/attach/ws?logs=1&stdout=1`);
      assert.equal(out.text, 'one\n');
    } finally {
      await ok(['rm', '-f', id]);
    }
  });

  test('stream=1 without logs: only what is written after attaching', async () => {
    const id = await ok(['run', '-d', 'busybox', 'sh', '-c', 'echo early; sleep 2; echo late']);
    await until(async () => (await d.docker(['logs', id])).stdout.includes('early'), 'the first line');
    const got = await attachWs(d, `/v1.47/containers/${id}/attach/ws?stream=1&stdout=1`);
    assert.equal(got.text, 'late\n');
    await ok(['rm', '-f', id]);
  });

  test('nothing is left behind', async () => {
    assert.equal(await ok(['ps', '-aq']), '');
    assert.deepEqual(d.leftovers(), { mounts: [], shims: [], cgroups: [] });
  });
});
