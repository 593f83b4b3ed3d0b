/**
 * A UDP socket bound inside another network namespace, owned by berthd.
 * Node cannot enter a namespace itself, so a short-lived node child runs
 * in it (nsenter --net), binds the socket there and hands the bound socket
 * back over its IPC channel (SCM_RIGHTS), then exits. A socket keeps the
 * namespace it was made in, so berthd then serves on it from its own.
 *
 *   const s = await bindUdpInNetns('/run/berth/netns/0123abcd4567', '127.0.0.11', 53);
 *   s.on('message', ...);   // queries from inside the container
 *
 * libnetwork does the same for its embedded DNS (a socket opened after
 * setns into the sandbox); berth needs it where a network's gateway is not
 * on this host (macvlan), so 127.0.0.11 cannot be DNATed to a server here.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { SystemError } from '../../errdefs/index.js';

const CHILD = `
const [address, port] = [process.env.BERTH_BIND_ADDRESS, Number(process.env.BERTH_BIND_PORT)];
const s = require('node:dgram').createSocket('udp4');
s.once('error', (e) => process.send({ error: e.message }, () => process.exit(1)));
s.bind({ address, port, exclusive: true }, () => process.send('bound', s, () => process.exit(0)));
`;

const TIMEOUT_MS = 15_000;

export function bindUdpInNetns(netnsPath: string, address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${netnsPath}`, '--', process.execPath, '-e', CHILD], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', BERTH_BIND_ADDRESS: address, BERTH_BIND_PORT: String(port) },
    });
    let stderr = '';
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new SystemError('network.netns_socket', `could not bind ${address}:${port} in the container's network namespace: ${why}`));
    };
    const timer = setTimeout(() => fail('the helper did not answer in time'), TIMEOUT_MS);
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => fail(err.message));
    child.on('message', (msg: unknown, handle: unknown) => {
      if (msg === 'bound' && handle) {
        if (settled) return (handle as Socket).close();
        settled = true;
        clearTimeout(timer);
        resolve(handle as Socket);
      } else {
        fail((msg as { error?: string }).error ?? 'no socket came back');
      }
    });
    // 'close', not 'exit': by then the IPC channel has delivered what the child sent
    child.on('close', (code) => fail(stderr.trim() || `the helper exited with ${code}`));
  });
}
