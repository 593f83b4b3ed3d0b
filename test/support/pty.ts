/**
 * Runs a command on a real pseudo-terminal (util-linux `script`), feeding it
 * input on a schedule, so tests can drive `run -it`, `exec -it`, `attach`.
 */
import { spawn } from 'node:child_process';

export interface PtyStep {
  /** Wait until the output contains this text (or `afterMs` passed). */
  waitFor?: string | RegExp;
  afterMs?: number;
  send: string;
}

export interface PtyResult {
  code: number;
  output: string;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function runInPty(argv: string[], steps: PtyStep[], o: { env?: NodeJS.ProcessEnv; rows?: number; cols?: number; timeoutMs?: number } = {}): Promise<PtyResult> {
  const cmd = `stty rows ${o.rows ?? 24} cols ${o.cols ?? 80}; exec ${argv.map(shellQuote).join(' ')}`;
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, ...(o.env ?? {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.stdin.on('error', () => {});
  const until = (p: string | RegExp, ms: number) => new Promise<void>((resolve) => {
    const check = () => {
      if (typeof p === 'string' ? output.includes(p) : p.test(output)) {
        listeners.delete(check);
        resolve();
      }
    };
    listeners.add(check);
    check();
    setTimeout(() => {
      listeners.delete(check);
      resolve();
    }, ms);
  });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
  return (async () => {
    for (const s of steps) {
      if (s.waitFor) await until(s.waitFor, 10_000);
      if (s.afterMs) await new Promise((r) => setTimeout(r, s.afterMs));
      child.stdin.write(s.send);
    }
    const code = await exited;
    clearTimeout(timer);
    return { code, output };
  })();
}
