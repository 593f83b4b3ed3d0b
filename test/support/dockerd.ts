/**
 * A real dockerd (Debian's docker.io, /usr/sbin/dockerd) for tests that
 * check berth's clients against it: its own socket, data root, exec root
 * (so its own containerd) and config file; no bridge, no iptables, vfs
 * storage. Never the system daemon.
 *
 *   const dd = await startDockerd();
 *   await runProgram('docker', ['ps'], dd.env);
 *   await dd.stop();   // SIGTERM, waits, removes its directory
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

export const DOCKERD = '/usr/sbin/dockerd';

export interface Dockerd {
  host: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

function pings(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function startDockerd(): Promise<Dockerd> {
  const dir = mkdtempSync('/tmp/berth-dockerd-');
  const socket = join(dir, 'docker.sock');
  writeFileSync(join(dir, 'daemon.json'), '{}');
  const proc = spawn(DOCKERD, [
    '-H', `unix://${socket}`, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'docker.pid'),
    '--config-file', join(dir, 'daemon.json'), '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false',
    '--storage-driver=vfs', '--userland-proxy=false',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  proc.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!(await pings(socket))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`dockerd did not start:\n${logs.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const host = `unix://${socket}`;
  return { host, env: { DOCKER_HOST: host, BERTH_HOST: host, DOCKER_CLI_HINTS: 'false' }, stop };
}
