/**
 * The CRI's streaming calls: Exec, Attach and PortForward answer a URL on
 * berthd's streaming server, which speaks the kubelet's websocket channel
 * protocols (channel 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize;
 * port-forward's data/error channel pairs). Tokens are good once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { grpcCode, type CriClient } from '../support/cri-client.js';
import { CriPod } from '../support/cri-pod.js';
import { CriStream } from '../support/cri-stream.js';
import { waitFor } from '../support/wait.js';

const INVALID_ARGUMENT = 3;

describe('CRI streaming server', () => {
  let cri: CriClient;
  let fx: CriPod;
  let pod: string;

  const start = (name: string, command: string[], extra: Record<string, unknown> = {}) => fx.startContainer(name, command, extra);
  const status = (s: CriStream) => JSON.parse(s.text(3)) as { status: string; reason?: string; message?: string; details?: { causes: { reason: string; message: string }[] } };

  before(async () => {
    fx = await CriPod.start('streams');
    ({ cri, id: pod } = fx);
  });
  after(async () => {
    await fx?.destroy();
  });

  test('Exec: stdout and stderr on their channels, a non-zero exit as the kubelet\'s Failure status; the token is good once', async () => {
    const id = await start('sleeper', ['sleep', '3600']);
    const { url } = await cri.runtime('Exec', { container_id: id, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], stdout: true, stderr: true });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{11}$/);
    const s = await CriStream.open(url, 'v4.channel.k8s.io');
    await s.closed;
    assert.equal(s.text(1), 'out\n');
    assert.equal(s.text(2), 'err\n');
    const st = status(s);
    assert.equal(st.status, 'Failure');
    assert.equal(st.reason, 'NonZeroExitCode');
    assert.deepEqual(st.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
    await assert.rejects(CriStream.open(url, 'v4.channel.k8s.io'), (e: { status?: number }) => e.status === 404);

    const good = await CriStream.open((await cri.runtime('Exec', { container_id: id, cmd: ['true'], stdout: true })).url, 'v4.base64.channel.k8s.io');
    await good.closed;
    assert.deepEqual(status(good), { metadata: {}, status: 'Success' });
    await assert.rejects(cri.runtime('Exec', { container_id: id, cmd: ['true'] }), (e) => grpcCode(e) === INVALID_ARGUMENT);
  });

  test('Exec: stdin reaches the command and v5\'s close signal ends it; a TTY takes the size sent on the resize channel', async () => {
    const id = await start('execs', ['sleep', '3600']);
    const cat = await CriStream.open((await cri.runtime('Exec', { container_id: id, cmd: ['cat'], stdin: true, stdout: true })).url, 'v5.channel.k8s.io');
    assert.equal(cat.ws.protocol, 'v5.channel.k8s.io');
    cat.send(0, 'hello through stdin\n');
    await waitFor(async () => cat.text(1) === 'hello through stdin\n', 15_000, 'cat echoes its stdin');
    cat.send(255, Buffer.from([0]));
    await cat.closed;
    assert.deepEqual(status(cat), { metadata: {}, status: 'Success' });

    const tty = await CriStream.open((await cri.runtime('Exec', { container_id: id, cmd: ['sh'], tty: true, stdin: true, stdout: true })).url, 'v4.channel.k8s.io');
    tty.send(4, JSON.stringify({ Width: 123, Height: 45 }));
    tty.send(0, 'stty size\r');
    await waitFor(async () => tty.text(1).includes('45 123'), 15_000, `stty reports the size sent: ${JSON.stringify(tty.text(1))}`);
    tty.send(4, JSON.stringify({ Width: 90, Height: 30 }));
    tty.send(0, 'stty size\r');
    await waitFor(async () => tty.text(1).includes('30 90'), 15_000, `stty reports the new size: ${JSON.stringify(tty.text(1))}`);
    tty.send(0, 'exit 0\r');
    await tty.closed;
    assert.deepEqual(status(tty), { metadata: {}, status: 'Success' });
  });

  test('Attach: a container started with stdin reads what the client sends and answers on stdout', async () => {
    const id = await start('attached', ['sh', '-c', 'while read line; do echo "got $line"; done'], { stdin: true });
    const s = await CriStream.open((await cri.runtime('Attach', { container_id: id, stdin: true, stdout: true, stderr: true })).url, 'v4.channel.k8s.io');
    s.send(0, 'ping\n');
    await waitFor(async () => s.text(1) === 'got ping\n', 15_000, `the container answers: ${JSON.stringify(s.text(1))}`);
    s.close();
    await s.closed;
    // detaching left the container running
    assert.equal((await cri.runtime('ContainerStatus', { container_id: id })).status.state, 'CONTAINER_RUNNING');
  });

  test('Attach with a TTY: the resize channel sizes the container\'s terminal', async () => {
    const id = await start('tty', ['sh'], { stdin: true, tty: true });
    const s = await CriStream.open((await cri.runtime('Attach', { container_id: id, stdin: true, stdout: true, tty: true })).url, 'v4.channel.k8s.io');
    s.send(4, JSON.stringify({ Width: 77, Height: 21 }));
    await waitFor(async () => {
      s.send(0, 'stty size\r');
      await new Promise((r) => setTimeout(r, 300));
      return s.text(1).includes('21 77');
    }, 15_000, `stty in the attached terminal: ${JSON.stringify(s.text(1))}`);
    s.send(0, 'exit\r');
    await s.closed;
    assert.deepEqual(JSON.parse(s.text(3)), { metadata: {}, status: 'Success' });
  });

  test('PortForward: a port in the pod\'s network namespace, and an error on the port\'s error channel when nothing listens', async () => {
    await start('server', ['sh', '-c', 'while true; do echo pong | nc -l -p 8080; done']);
    const { url } = await cri.runtime('PortForward', { pod_sandbox_id: pod, port: [8080] });
    assert.match(url, /\/portforward\/[A-Za-z0-9_-]{11}$/);
    let s!: CriStream;
    await waitFor(async () => {
      const u = (await cri.runtime('PortForward', { pod_sandbox_id: pod, port: [8080] })).url as string;
      s = await CriStream.open(`${u}?port=8080`, 'v4.channel.k8s.io');
      await waitFor(async () => s.text(0).length > 2 || s.text(1).length > 2 || s.frames.length > 2, 5_000, 'data or an error').catch(() => {});
      if (s.text(0).slice(2) === 'pong\n') return true;
      s.close();
      return false;
    }, 30_000, 'pong through the forwarded port');
    // each channel starts with its port, little endian
    assert.deepEqual([...s.bytes(0).subarray(0, 2)], [8080 & 0xff, 8080 >> 8]);
    assert.deepEqual([...s.bytes(1)], [8080 & 0xff, 8080 >> 8]);
    s.close();
    await s.closed;

    const none = await CriStream.open(`${(await cri.runtime('PortForward', { pod_sandbox_id: pod })).url}?port=9`, 'v4.channel.k8s.io');
    await none.closed;
    assert.match(none.bytes(1).subarray(2).toString(), new RegExp(`^error forwarding port 9 to pod ${pod}, uid : .*(ECONNREFUSED|Connection refused)`));
    await assert.rejects(CriStream.open((await cri.runtime('PortForward', { pod_sandbox_id: pod })).url, 'v4.channel.k8s.io'),
      (e: { status?: number; body?: string }) => e.status === 400 && /"port" is required/.test(e.body ?? ''));
  });

  test('PortForward reaches a server bound to the pod\'s own 127.0.0.1, both ways', async () => {
    await start('local-http', ['sh', '-c', 'mkdir -p /www && echo hello-from-loopback > /www/index.html && exec httpd -f -p 127.0.0.1:8081 -h /www']);
    let body = '';
    await waitFor(async () => {
      const s = await CriStream.open(`${(await cri.runtime('PortForward', { pod_sandbox_id: pod })).url}?port=8081`, 'v4.channel.k8s.io');
      s.send(0, 'GET /index.html HTTP/1.0\r\n\r\n');
      await Promise.race([s.closed, new Promise((r) => setTimeout(r, 5_000))]);
      body = s.text(0).slice(2);
      s.close();
      return body.includes('hello-from-loopback');
    }, 30_000, `the page through the forward: ${JSON.stringify(body)}`);
    assert.match(body, /^HTTP\/1\.[01] 200 OK/);
  });
});
