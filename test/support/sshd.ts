/**
 * A real OpenSSH server for a test, on 127.0.0.1 with a temporary host key,
 * config and authorized key (root logs in with a key only), and an `ssh`
 * wrapper for the client side that uses them. The remote PATH starts with a
 * directory holding `berth` and a `docker` shim that runs berth, so both the
 * berth and the docker CLI find their `system dial-stdio` on the "remote" host.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { BERTH } from './daemon.js';
import { freePort } from './net.js';

const SSHD = '/usr/sbin/sshd';
const PRIVSEP_DIR = '/run/sshd';

function keygen(path: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
}

export class TestSshd {
  readonly dir: string;
  port = 0;
  private proc: ChildProcess | undefined;
  private madePrivsepDir = false;
  logs = '';

  private constructor() {
    this.dir = mkdtempSync('/tmp/berth-sshd-');
  }

  static async start(): Promise<TestSshd> {
    const s = new TestSshd();
    try {
      await s.launch();
    } catch (err) {
      s.stop();
      throw err;
    }
    return s;
  }

  /** PATH for client processes: our ssh wrapper first. */
  get clientPath(): string {
    return `${join(this.dir, 'client-bin')}:${process.env.PATH}`;
  }

  /** ssh://root@127.0.0.1:PORT[/socket] */
  url(socketPath = '', user = 'root'): string {
    return `ssh://${user}@127.0.0.1:${this.port}${socketPath}`;
  }

  private async launch(): Promise<void> {
    if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: apt-get install openssh-server (scripts/setup.sh does)`);
    const d = this.dir;
    this.port = await freePort();
    for (const sub of ['remote-bin', 'client-bin']) mkdirSync(join(d, sub));
    keygen(join(d, 'host_key'));
    keygen(join(d, 'client_key'));
    writeFileSync(join(d, 'authorized_keys'), readFileSync(join(d, 'client_key.pub')));
    const hostKey = readFileSync(join(d, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(join(d, 'known_hosts'), `[127.0.0.1]:${this.port} ${hostKey}\n`);
    symlinkSync(BERTH, join(d, 'remote-bin', 'berth'));
    writeFileSync(join(d, 'remote-bin', 'docker'), `#!/bin/sh\n# the docker CLI runs "docker system dial-stdio" on the remote host\nexec ${BERTH} "$@"\n`);
    chmodSync(join(d, 'remote-bin', 'docker'), 0o755);
    writeFileSync(join(d, 'sshd_config'), [
      `Port ${this.port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(d, 'host_key')}`,
      `AuthorizedKeysFile ${join(d, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      `PidFile ${join(d, 'sshd.pid')}`,
      `SetEnv PATH=${join(d, 'remote-bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      'LogLevel ERROR',
      '',
    ].join('\n'));
    writeFileSync(join(d, 'ssh_config'), [
      'Host *',
      `  IdentityFile ${join(d, 'client_key')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${join(d, 'known_hosts')}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '  LogLevel ERROR',
      '',
    ].join('\n'));
    writeFileSync(join(d, 'client-bin', 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${join(d, 'ssh_config')} "$@"\n`);
    chmodSync(join(d, 'client-bin', 'ssh'), 0o755);
    if (!existsSync(PRIVSEP_DIR)) {
      mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
      this.madePrivsepDir = true;
    }
    const check = spawnSync(SSHD, ['-t', '-f', join(d, 'sshd_config')], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`sshd -t: ${check.stderr}`);
    const proc = spawn(SSHD, ['-D', '-e', '-f', join(d, 'sshd_config')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout!.on('data', (b: Buffer) => (this.logs += b.toString()));
    proc.stderr!.on('data', (b: Buffer) => (this.logs += b.toString()));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`sshd exited: ${this.logs}`);
      if (await this.accepts()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd did not listen: ${this.logs}`);
  }

  private accepts(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port: this.port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  }

  /** Stops the sshd we started (by pid; its per-connection children end with their clients) and removes its files. */
  stop(): void {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGTERM');
    this.proc = undefined;
    rmSync(this.dir, { recursive: true, force: true });
    if (this.madePrivsepDir) {
      try {
        rmdirSync(PRIVSEP_DIR);
      } catch {
        // another sshd uses it now
      }
    }
  }
}
