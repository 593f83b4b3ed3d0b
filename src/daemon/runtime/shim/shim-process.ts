import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { endFlushed } from '../../../lib/streams.js';
import type { SpecProcess, SpecResources } from '../../../oci/runtime-spec.js';
import type { ExecOptions, ExitStatus, ProcessIO, RuntimeProcess, Task, TaskStatus } from '../runtime.js';
import { RuntimeStartError } from '../runtime.js';
import { openFifoReader, StdinFifo } from './fifo.js';
import * as M from './messages.js';
import { GrpcCode, TtrpcError, type TtrpcClient } from './ttrpc.js';

type Msg = Record<string, unknown>;

export function toDate(ts: { seconds?: number; nanos?: number } | undefined): Date {
  if (!ts || !ts.seconds || ts.seconds < 0) return new Date(0);
  return new Date(ts.seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}

/** FIFO paths of one process inside a bundle (`init` or an exec id). */
export interface FifoSet {
  stdin?: string;
  stdout: string;
  stderr?: string;
}

export function fifoPaths(bundle: string, name: string, terminal: boolean, stdin: boolean): FifoSet {
  const set: FifoSet = { stdout: join(bundle, `${name}-stdout`) };
  if (!terminal) set.stderr = join(bundle, `${name}-stderr`);
  if (stdin) set.stdin = join(bundle, `${name}-stdin`);
  return set;
}

/** Creates FIFOs at the given paths (the runtime's pool, or mkfifo). */
export type FifoMaker = (paths: string[]) => Promise<void>;

export function fifoList(set: FifoSet): string[] {
  return [set.stdin, set.stdout, set.stderr].filter((p): p is string => !!p);
}

/** Output readers; they must be open before the shim opens its writing ends. */
export async function openReaders(set: FifoSet): Promise<{ stdout: Socket; stderr?: Socket }> {
  const stdout = await openFifoReader(set.stdout);
  const stderr = set.stderr ? await openFifoReader(set.stderr) : undefined;
  return stderr ? { stdout, stderr } : { stdout };
}

export function ioFor(set: FifoSet, readers: { stdout: Socket; stderr?: Socket }): ProcessIO {
  const io: ProcessIO = { ...readers };
  if (set.stdin) {
    const stdin = new StdinFifo(set.stdin);
    stdin.on('error', () => {}); // EPIPE after the process exits is expected
    io.stdin = stdin;
  }
  return io;
}

export function closeIO(io: Partial<ProcessIO>): void {
  io.stdin?.destroy();
  io.stdout?.destroy();
  io.stderr?.destroy();
}

/** Calls the shim's Task service for one process (exec id '' = the container's init). */
class ShimProcessBase {
  private waited: Promise<ExitStatus> | undefined;
  constructor(
    protected readonly client: TtrpcClient,
    readonly id: string,
    protected readonly execId: string,
    public pid: number,
    readonly io: ProcessIO,
  ) {}

  protected call<T extends Msg>(method: string, req: M.SchemaRef, res: M.SchemaRef, body: Msg): Promise<T> {
    return this.client.call<T>(M.TASK_SERVICE, method, req, { id: this.id, execId: this.execId, ...body }, res);
  }

  async start(): Promise<void> {
    try {
      const r = await this.call<{ pid: number }>('Start', M.StartRequest, M.PidResponse, {});
      this.pid = r.pid;
    } catch (err) {
      throw err instanceof TtrpcError ? new RuntimeStartError(err.message) : err;
    }
  }

  wait(): Promise<ExitStatus> {
    this.waited ??= this.call<{ exitStatus: number; exitedAt: { seconds: number; nanos: number } }>(
      'Wait', M.WaitRequest, M.WaitResponse, {},
    ).then((r) => ({ exitCode: r.exitStatus, exitedAt: toDate(r.exitedAt) }));
    return this.waited;
  }

  async kill(signal: number): Promise<void> {
    await this.killWith(signal, false);
  }

  protected async killWith(signal: number, all: boolean): Promise<void> {
    try {
      await this.call('Kill', M.KillRequest, M.Empty, { signal, all });
    } catch (err) {
      // the process finished between our check and the signal: nothing to do
      if (err instanceof TtrpcError && err.code === GrpcCode.NotFound) return;
      throw err;
    }
  }

  async resize(width: number, height: number): Promise<void> {
    await this.call('ResizePty', M.ResizePtyRequest, M.Empty, { width, height });
  }

  /** Delete in the shim (already gone is fine) and close our ends of its stdio. */
  protected async deleteProcess(): Promise<void> {
    try {
      await this.call('Delete', M.DeleteRequest, M.DeleteResponse, {});
    } catch (err) {
      if (!(err instanceof TtrpcError && err.code === GrpcCode.NotFound)) throw err;
    }
    closeIO(this.io);
  }

  async closeStdin(): Promise<void> {
    // EOF reaches the process only once the shim closes its end AND every writer of ours is closed;
    // ours closes after what is still queued went into the FIFO (a FIFO takes 64 KiB at a time),
    // which also means after the shim's reader was there (StdinFifo)
    if (this.io.stdin) {
      await endFlushed(this.io.stdin);
      this.io.stdin.destroy();
    }
    await this.call('CloseIO', M.CloseIORequest, M.Empty, { stdin: true });
  }
}

export class ShimExec extends ShimProcessBase implements RuntimeProcess {
  constructor(client: TtrpcClient, id: string, execId: string, io: ProcessIO, private readonly fifos: FifoSet) {
    super(client, id, execId, 0, io);
  }

  async delete(): Promise<void> {
    await this.deleteProcess();
    await Promise.all(Object.values(this.fifos).map((p) => rm(p as string, { force: true })));
  }
}

export class ShimTask extends ShimProcessBase implements Task {
  constructor(
    client: TtrpcClient,
    id: string,
    pid: number,
    io: ProcessIO,
    private readonly bundle: string,
    private readonly onDeleted: () => Promise<void>,
    private readonly makeFifos: FifoMaker,
  ) {
    super(client, id, '', pid, io);
  }

  async status(): Promise<TaskStatus> {
    const s = await this.call<{ status: number }>('State', M.StateRequest, M.StateResponse, {});
    const byCode: Record<number, TaskStatus> = { 1: 'created', 2: 'running', 3: 'stopped', 4: 'paused', 5: 'paused' };
    return byCode[s.status] ?? 'unknown';
  }

  killAll(signal: number): Promise<void> {
    return this.killWith(signal, true);
  }

  async pause(): Promise<void> {
    await this.client.call(M.TASK_SERVICE, 'Pause', M.PauseRequest, { id: this.id }, M.Empty);
  }

  async resume(): Promise<void> {
    await this.client.call(M.TASK_SERVICE, 'Resume', M.PauseRequest, { id: this.id }, M.Empty);
  }

  async pids(): Promise<number[]> {
    const r = await this.client.call<{ processes: { pid: number }[] }>(M.TASK_SERVICE, 'Pids', M.PidsRequest, { id: this.id }, M.PidsResponse);
    return r.processes.map((p) => p.pid);
  }

  async update(resources: SpecResources): Promise<void> {
    await this.client.call(M.TASK_SERVICE, 'Update', M.UpdateTaskRequest, {
      id: this.id,
      resources: { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources', value: Buffer.from(JSON.stringify(resources)) },
    }, M.Empty);
  }

  async exec(opts: ExecOptions): Promise<ShimExec> {
    const fifos = fifoPaths(this.bundle, `exec-${opts.execId}`, opts.terminal, opts.stdin);
    await this.makeFifos(fifoList(fifos));
    const readers = await openReaders(fifos);
    const spec: SpecProcess = { ...opts.process, terminal: opts.terminal };
    try {
      await this.client.call(M.TASK_SERVICE, 'Exec', M.ExecProcessRequest, {
        id: this.id,
        execId: opts.execId,
        terminal: opts.terminal,
        stdin: fifos.stdin ?? '',
        stdout: fifos.stdout,
        stderr: fifos.stderr ?? '',
        spec: { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/Process', value: Buffer.from(JSON.stringify(spec)) },
      }, M.Empty);
    } catch (err) {
      closeIO(readers);
      await Promise.all(Object.values(fifos).map((p) => rm(p as string, { force: true })));
      throw err instanceof TtrpcError ? new RuntimeStartError(err.message) : err;
    }
    return new ShimExec(this.client, this.id, opts.execId, ioFor(fifos, readers), fifos);
  }

  async delete(): Promise<void> {
    await this.deleteProcess();
    await this.onDeleted();
  }
}
