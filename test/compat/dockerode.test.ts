/** A third-party SDK's view of the API: dockerode (as node tools use it) against berthd. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { TestDaemon } from '../support/daemon.js';

describe('dockerode against berthd', () => {
  let d: TestDaemon;
  let docker: Docker;
  before(async () => {
    d = await TestDaemon.start();
    await d.busybox();
    docker = new Docker({ socketPath: d.socket });
  });
  after(async () => {
    await d?.destroy();
  });

  test('ping, version, info, listImages', async () => {
    assert.equal((await docker.ping()).toString(), 'OK');
    assert.equal((await docker.version()).ApiVersion, '1.47');
    assert.equal((await docker.info()).Driver, 'overlay2');
    const images = await docker.listImages();
    assert.deepEqual(images.map((i) => i.RepoTags), [['busybox:latest']]);
  });

  test('create, start, wait, logs (demultiplexed), inspect, remove', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 4'], Labels: { sdk: 'dockerode' } });
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    assert.equal(StatusCode, 4);
    const raw = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    const out = new PassThrough();
    const err = new PassThrough();
    const got = { out: '', err: '' };
    out.on('data', (b: Buffer) => (got.out += b.toString()));
    err.on('data', (b: Buffer) => (got.err += b.toString()));
    const stream = new PassThrough();
    docker.modem.demuxStream(stream, out, err);
    stream.end(raw);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, { out: 'out\n', err: 'err\n' });
    const info = await c.inspect();
    assert.equal(info.State.ExitCode, 4);
    assert.equal(info.Config.Labels.sdk, 'dockerode');
    await c.remove();
    await assert.rejects(c.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  test('attach with hijack: stdin in, output out', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['cat'], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const stream = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    docker.modem.demuxStream(stream, out, new PassThrough());
    await c.start();
    stream.end('through dockerode\n');
    await c.wait();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(text, 'through dockerode\n');
    await c.remove();
  });

  test('exec with dockerode', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'] });
    await c.start();
    const exec = await c.exec({ Cmd: ['sh', '-c', 'echo from-exec; exit 2'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    let text = '';
    const out = new PassThrough();
    out.on('data', (b: Buffer) => (text += b.toString()));
    docker.modem.demuxStream(stream, out, new PassThrough());
    await new Promise((r) => stream.on('end', r));
    assert.equal(text, 'from-exec\n');
    assert.equal((await exec.inspect()).ExitCode, 2);
    await c.remove({ force: true });
  });

  test('getEvents streams container events', async () => {
    const events = await docker.getEvents({ filters: { type: ['container'] } });
    const seen: string[] = [];
    events.on('data', (b: Buffer) => {
      for (const line of b.toString().split('\n').filter(Boolean)) seen.push((JSON.parse(line) as { Action: string }).Action);
    });
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'] });
    await c.start();
    await c.wait();
    await c.remove();
    await new Promise((r) => setTimeout(r, 200));
    (events as unknown as { destroy(): void }).destroy();
    assert.deepEqual(seen.filter((a) => ['create', 'start', 'die', 'destroy'].includes(a)), ['create', 'start', 'die', 'destroy']);
  });
});
