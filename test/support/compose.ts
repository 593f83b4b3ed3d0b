/** docker-compose (Debian's 1.29) against a test daemon, in a project dir; killed after 60 s. */
import { spawn } from 'node:child_process';
import type { TestDaemon } from './daemon.js';

export function compose(d: TestDaemon, dir: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('docker-compose', args, { cwd: dir, env: { ...process.env, ...d.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out });
    });
  });
}
