/**
 * The CRI's streaming URLs over SPDY/3.1, the kubelet's protocol that the
 * API server uses for `kubectl exec`, `attach` and `port-forward`: the
 * client upgrades with `X-Stream-Protocol-Version`, then opens a stream per
 * purpose (`streamType` error/stdin/stdout/stderr/resize; data/error pairs
 * with `port` and `requestID` for port forwarding).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CriClient } from '../support/cri-client.js';
import { CriPod } from '../support/cri-pod.js';
import { SpdyRemoteCommand, spdyConnect, spdyForward } from '../support/cri-spdy.js';
import { waitFor } from '../support/wait.js';

describe('CRI streaming over SPDY', () => {
  let cri: CriClient;
  let fx: CriPod;
  let pod: string;
  let sleeper: string;

  const start = (name: string, command: string[], extra: Record<string, unknown> = {}) => fx.startContainer(name, command, extra);
  const execUrl = async (cmd: string[], flags: Record<string, boolean>) =>
    (await cri.runtime('Exec', { container_id: sleeper, cmd, ...flags })).url as string;

  before(async () => {
    fx = await CriPod.start('spdy');
    ({ cri, id: pod } = fx);
    sleeper = await start('sleeper', ['sleep', '3600']);
  });
  after(async () => {
    await fx?.destroy();
  });

  test('Exec without a TTY: stdout and stderr on their streams, the exit code in v4\'s Failure status, Success for 0', async () => {
    const x = await SpdyRemoteCommand.open(await execUrl(['sh', '-c', 'echo out; echo err >&2; exit 3'], { stdout: true, stderr: true }), { stdout: true, stderr: true });
    assert.equal(x.protocol, 'v4.channel.k8s.io');
    await x.done;
    assert.equal(x.text('stdout'), 'out\n');
    assert.equal(x.text('stderr'), 'err\n');
    const st = x.status();
    assert.equal(st.status, 'Failure');
    assert.equal(st.reason, 'NonZeroExitCode');
    assert.deepEqual(st.details?.causes, [{ reason: 'ExitCode', message: '3' }]);
    x.close();

    const ok = await SpdyRemoteCommand.open(await execUrl(['true'], { stdout: true }), { stdout: true });
    await ok.done;
    assert.deepEqual(ok.status(), { metadata: {}, status: 'Success' });
    ok.close();
  });

  test('Exec: stdin reaches the command and the end of the stdin stream ends it', async () => {
    const x = await SpdyRemoteCommand.open(await execUrl(['cat'], { stdin: true, stdout: true }), { stdin: true, stdout: true });
    x.write('hello through spdy\n');
    await waitFor(async () => x.text('stdout') === 'hello through spdy\n', 15_000, `cat echoes: ${JSON.stringify(x.text('stdout'))}`);
    x.endStdin();
    await x.done;
    assert.deepEqual(x.status(), { metadata: {}, status: 'Success' });
    x.close();
  });

  test('Exec with a TTY: the resize stream sizes the terminal, before and after the command starts', async () => {
    const x = await SpdyRemoteCommand.open(await execUrl(['sh'], { tty: true, stdin: true, stdout: true }), { tty: true, stdin: true, stdout: true });
    assert.ok(x.streams.has('resize'));
    x.resize(123, 45);
    x.write('stty size\r');
    await waitFor(async () => x.text('stdout').includes('45 123'), 15_000, `stty reports the size sent: ${JSON.stringify(x.text('stdout'))}`);
    x.resize(90, 30);
    x.write('stty size\r');
    await waitFor(async () => x.text('stdout').includes('30 90'), 15_000, `stty reports the new size: ${JSON.stringify(x.text('stdout'))}`);
    x.write('exit 4\r');
    await x.done;
    assert.deepEqual(x.status().details?.causes, [{ reason: 'ExitCode', message: '4' }]);
    x.close();
  });

  test('Exec: output past the 64 KiB window arrives whole, to a client without flow control (spdystream) and with it', async () => {
    for (const flowControl of [false, true]) {
      const x = await SpdyRemoteCommand.open(await execUrl(['sh', '-c', 'head -c 400000 /dev/zero | tr "\\0" x'], { stdout: true }), { stdout: true }, { flowControl });
      await x.done;
      assert.equal(x.text('stdout').length, 400_000, `flow control ${flowControl}`);
      assert.deepEqual(x.status(), { metadata: {}, status: 'Success' });
      x.close();
    }
  });

  test('Exec over the older protocols: v3 and v2 write only a failure\'s text on the error stream', async () => {
    const v3 = await SpdyRemoteCommand.open(await execUrl(['sh', '-c', 'exit 2'], { stdout: true }), { stdout: true }, { protocols: ['v3.channel.k8s.io'] });
    assert.equal(v3.protocol, 'v3.channel.k8s.io');
    await v3.done;
    assert.match(v3.text('error'), /command terminated with non-zero exit code: error executing command \[sh -c exit 2\], exit code 2/);
    v3.close();
    const v2 = await SpdyRemoteCommand.open(await execUrl(['true'], { stdout: true }), { stdout: true }, { protocols: ['v2.channel.k8s.io'] });
    await v2.done;
    assert.equal(v2.text('error'), '');
    v2.close();
  });

  test('the upgrade needs X-Stream-Protocol-Version (400) and one the server knows (403, with the ones it accepts)', async () => {
    await assert.rejects(spdyConnect(await execUrl(['true'], { stdout: true }), []),
      (e: { status?: number; body?: string }) => e.status === 400 && /X-Stream-Protocol-Version is required/.test(e.body ?? ''));
    await assert.rejects(spdyConnect(await execUrl(['true'], { stdout: true }), ['v9.channel.k8s.io']),
      (e: { status?: number; body?: string; headers?: Record<string, unknown> }) => e.status === 403
        && /unable to negotiate protocol: client supports \[v9.channel.k8s.io\], server accepts \[v4.channel.k8s.io v3/.test(e.body ?? '')
        && String(e.headers?.['x-accepted-stream-protocol-versions']).includes('v4.channel.k8s.io'));
  });

  test('Attach: stdin in, stdout out; closing the connection detaches and the container keeps running', async () => {
    const id = await start('attached', ['sh', '-c', 'while read line; do echo "got $line"; done'], { stdin: true });
    const url = (await cri.runtime('Attach', { container_id: id, stdin: true, stdout: true, stderr: true })).url as string;
    const x = await SpdyRemoteCommand.open(url, { stdin: true, stdout: true, stderr: true });
    x.write('ping\n');
    await waitFor(async () => x.text('stdout') === 'got ping\n', 15_000, `the container answers: ${JSON.stringify(x.text('stdout'))}`);
    x.close();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await cri.runtime('ContainerStatus', { container_id: id })).status.state, 'CONTAINER_RUNNING');
  });

  test('PortForward: two connections over one session, a refused port\'s error on its error stream, a stream without a port reset', async () => {
    await start('pong', ['sh', '-c', 'while true; do echo pong | nc -l -p 8080; done']);
    const { session, protocol } = await spdyConnect((await cri.runtime('PortForward', { pod_sandbox_id: pod })).url as string, ['portforward.k8s.io']);
    assert.equal(protocol, 'portforward.k8s.io');
    let n = 0;
    const pong = async () => {
      let got = '';
      await waitFor(async () => {
        const f = await spdyForward(session, 8080, String(n++));
        await Promise.race([f.ended, new Promise((r) => setTimeout(r, 5_000))]);
        got = f.received();
        return got === 'pong\n';
      }, 30_000, `pong through the forwarded port: ${JSON.stringify(got)}`);
    };
    await pong();
    await pong();

    const refused = await spdyForward(session, 9, 'refused');
    await refused.ended;
    assert.match(refused.errors(), new RegExp(`^error forwarding port 9 to pod ${pod}, uid : .*(ECONNREFUSED|Connection refused)`));

    const bad = session.openStream({ streamType: 'data', requestID: 'x' });
    await assert.rejects(bad.replied, /reset/);
    session.destroy();
  });

  test('PortForward reaches a server bound to the pod\'s own 127.0.0.1, both ways', async () => {
    await start('local-http', ['sh', '-c', 'mkdir -p /www && echo hello-over-spdy > /www/index.html && exec httpd -f -p 127.0.0.1:8081 -h /www']);
    const { session } = await spdyConnect((await cri.runtime('PortForward', { pod_sandbox_id: pod })).url as string, ['portforward.k8s.io']);
    let body = '';
    let n = 0;
    await waitFor(async () => {
      const f = await spdyForward(session, 8081, `r${n++}`);
      f.data.write('GET /index.html HTTP/1.0\r\n\r\n');
      await Promise.race([f.ended, new Promise((r) => setTimeout(r, 5_000))]);
      body = f.received();
      return body.includes('hello-over-spdy');
    }, 30_000, `the page through the forward: ${JSON.stringify(body)}`);
    assert.match(body, /^HTTP\/1\.[01] 200 OK/);
    session.destroy();
  });
});
