/**
 * Legacy plugins for the tests: the Node programs in test/support/plugins/
 * run on a unix socket in a temporary plugin directory, which the daemon
 * under test is pointed at (`--plugin-socket-dir`, `--plugin-spec-dir`).
 *
 *   const dirs = pluginDirs();
 *   const vol = await startPlugin('volume-plugin.mjs', dirs.sockets, 'tvol', [stateDir]);
 *   const d = await TestDaemon.start({ extraArgs: dirs.daemonArgs });
 *   ...
 *   await vol.stop(); dirs.remove();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './daemon.js';

export interface PluginDirs {
  root: string;
  sockets: string;
  specs: string;
  daemonArgs: string[];
  remove(): void;
}

export function pluginDirs(timeoutSeconds = 3): PluginDirs {
  const root = mkdtempSync('/tmp/berth-e2e-plugins-');
  const sockets = join(root, 'run');
  const specs = join(root, 'etc');
  mkdirSync(sockets);
  mkdirSync(specs);
  return {
    root, sockets, specs,
    daemonArgs: ['--plugin-socket-dir', sockets, '--plugin-spec-dir', specs, '--plugin-timeout', String(timeoutSeconds)],
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export class RunningPlugin {
  constructor(readonly name: string, readonly socket: string, private readonly proc: ChildProcess, readonly output: () => string) {}

  /** Kills the program without letting it clean up: its socket stays, nobody listens (a crashed plugin). */
  crash(): Promise<void> {
    return this.kill('SIGKILL');
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }

  private kill(signal: NodeJS.Signals): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill(signal);
    });
  }
}

/**
 * Starts test/support/plugins/<script> serving `<dir>/<name>.sock`; resolves once it listens.
 * With `netns`, in that network namespace (a network plugin makes its links beside a netns daemon's).
 */
export async function startPlugin(script: string, dir: string, name: string, args: string[] = [], o: { netns?: string } = {}): Promise<RunningPlugin> {
  const socket = join(dir, `${name}.sock`);
  const argv = [join(REPO, 'test/support/plugins', script), socket, ...args];
  // nsenter execs node in place: the child's pid is the plugin's
  const proc = o.netns
    ? spawn('nsenter', [`--net=${o.netns}`, '--', process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!out.includes('ready')) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`plugin ${script} did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return new RunningPlugin(name, socket, proc, () => out);
}

/** The calls a test plugin (volume-plugin.mjs, network-plugin.mjs) received, in order. */
export function pluginCalls(stateDir: string): Array<{ method: string; body: Record<string, unknown> }> {
  const f = join(stateDir, 'calls.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { method: string; body: Record<string, unknown> });
}
