/**
 * A process run to its exit by `runc run` with no shim: the builder's RUN
 * steps (BuildKit's runc executor does the same). The caller owns the
 * bundle and its rootfs; runc owns the container only while it runs, and
 * removes it (state, cgroup) itself when the process exits.
 *
 *   <runcRoot>/<id>/      runc's state while the step runs (swept by sweepRuncRoot at start-up)
 *   <bundle>/config.json  the spec, written by the caller
 *   <bundle>/pid          written by runc once the process started
 *   <bundle>/runc.log     runc's own log (JSON), read when it could not start the process
 *   <fifoPath>            the output's FIFO while the process runs (from a FifoPool)
 *
 *   const code = await runcRun({ root, id, bundle, output: (b) => say(b), signal });
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SystemError } from '../../errdefs/index.js';
import { run, runStreaming } from '../../lib/exec.js';
import { cleanupFailed, type Logger } from '../../lib/logger.js';
import { RuntimeStartError } from './runtime.js';
import { mkfifo } from './shim/fifo.js';

export interface RuncRunOptions {
  /** The runc binary (default: `runc` on PATH). */
  runc?: string;
  /** runc's `--root`: state of the containers it runs for this daemon's builds. */
  root: string;
  id: string;
  bundle: string;
  /** stdout and stderr of the process, interleaved, as they are written. */
  output(data: Buffer): void;
  /** Aborted: the container is killed and removed; the run rejects with SystemError build.cancelled. */
  signal?: AbortSignal;
  /** FIFOs made ahead (shim/fifo-pool.ts), moved to where the output passes; mkfifo(1) per run otherwise. */
  fifos?: { take(paths: string[]): Promise<void> };
  /** A path for that FIFO on the pool's filesystem (default: in the bundle). */
  fifoPath?: string;
}

/** Resolves with the process's exit code (128 + n for signal n); RuntimeStartError when runc could not start it. */
export async function runcRun(o: RuncRunOptions): Promise<number> {
  const runc = o.runc ?? 'runc';
  if (o.signal?.aborted) throw cancelled();
  const pidFile = join(o.bundle, 'pid');
  const logFile = join(o.bundle, 'runc.log');
  let exited = false;
  const running = runStreaming(runc, ['--root', o.root, '--log', logFile, '--log-format', 'json', 'run', '--bundle', o.bundle, '--pid-file', pidFile, o.id], {
    output: o.output,
    fifoPath: o.fifoPath ?? join(o.bundle, 'output'),
    makeFifo: (path) => (o.fifos ? o.fifos.take([path]) : mkfifo([path])),
  }).finally(() => { exited = true; });
  // until runc run returns: a kill before runc made the container finds nothing yet, so it is tried again
  const kill = async () => {
    while (!exited) {
      await run(runc, ['--root', o.root, 'delete', '--force', o.id]).catch(() => {});
      await Promise.race([running.catch(() => {}), sleep(100)]);
    }
  };
  const onAbort = () => void kill();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let code: number;
  try {
    code = await running;
  } finally {
    o.signal?.removeEventListener('abort', onAbort); // one build's signal sees many steps
  }
  if (o.signal?.aborted) throw cancelled();
  if (code !== 0 && !(await readFile(pidFile).then(() => true, () => false))) {
    throw new RuntimeStartError(await lastError(logFile) ?? `runc run failed (exit ${code})`);
  }
  return code;
}

/** What a build whose client went away ends with (Go's context.Canceled, as BuildKit reports it). */
export function cancelled(): SystemError {
  return new SystemError('build.cancelled', 'context canceled');
}

/** The last error runc logged: why it could not start the process. */
async function lastError(logFile: string): Promise<string | undefined> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  let msg: string | undefined;
  for (const line of text.split('\n')) {
    try {
      const e = JSON.parse(line) as { level?: string; msg?: string };
      if (e.level === 'error' && e.msg) msg = e.msg;
    } catch {
      // not a JSON line
    }
  }
  return msg;
}

/** Containers a killed daemon's builds left running: killed and removed (runc removes their cgroups). */
export async function sweepRuncRoot(root: string, log: Logger, runc = 'runc'): Promise<void> {
  const ids = await readdir(root).catch(() => [] as string[]);
  for (const id of ids) {
    log.warn('removing a build step container a previous daemon left', { id });
    await run(runc, ['--root', root, 'delete', '--force', id]).catch(cleanupFailed(log, 'remove a leftover build step container', { id }));
  }
}
