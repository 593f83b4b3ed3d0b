/**
 * An in-memory Runtime for unit tests: no root, no runc, no shim. Processes
 * are FakeProcess objects (fake-process.ts) that the test drives, or that a
 * small program drives (busybox-like `true`, `false`, `echo`, `cat`,
 * `sleep`, plus any the test registers). It keeps the shim runtime's rules,
 * checked by the same conformance suite (conformance.ts): streams live from
 * create, output ends before wait answers, stdin reaches EOF only through
 * closeStdin, PID 1 ignores signals it does not handle, delete refuses a
 * running task, execs die with their init, exec needs a running task.
 *
 *   const fake = new FakeRuntime();
 *   const task = await fake.create({ id, spec, rootfs: [], terminal: false, stdin: true });
 *   await task.start();
 *   fake.process(id).write('hello');      // argv 'sleep 1000' here; any unknown argv waits for the test
 *   fake.process(id).exit(3);             // task.wait() -> { exitCode: 3 }
 *   const after = fake.reopen();          // a restarted daemon: restore(id) finds the same processes
 *
 * Faults to inject: failNext('create' | 'start' | 'exec', message),
 * hold(op) (the op waits for the test: deterministic races), crashShim(id)
 * (restore answers 'gone'; waits on old handles fail), oom(id).
 */
import { basename } from 'node:path';
import { Writable } from 'node:stream';
import type { RuntimeSpec, SpecResources } from '../../oci/runtime-spec.js';
import { FaultPlan, type FakeOp, type Hold } from './fake-faults.js';
import { BUILTIN_PROGRAMS, FakeProcess, notFound, type FakeProgram } from './fake-process.js';
import type { ExecOptions, ExitStatus, ProcessIO, RestoreResult, Runtime, RuntimeEvents, RuntimeProcess, Task, TaskOptions, TaskStatus } from './runtime.js';
import { RuntimeStartError } from './runtime.js';

export { FakeProcess, notFound, type FakeProgram } from './fake-process.js';

/** One container as the runtime holds it; shared by every FakeRuntime over the same host. */
interface FakeTaskEntry {
  id: string;
  spec: RuntimeSpec;
  init: FakeProcess;
  execs: Map<string, FakeProcess>;
  paused: boolean;
  /** Signals sent while paused, delivered at resume (a frozen process cannot act on them). */
  queued: { proc: FakeProcess; signal: number }[];
  resources: SpecResources[];
  shimDead: boolean;
  /** Rejects the waits of every handle once the shim is gone. */
  shimGone: Promise<never>;
  killShim: (err: Error) => void;
}

/** What outlives a daemon restart: the shims and their processes. */
export class FakeHost {
  readonly tasks = new Map<string, FakeTaskEntry>();
  /** Ids with a shim started by `prepare` and no task yet. */
  readonly prepared = new Set<string>();
  /** Every task ever created under an id, deleted ones too, oldest first (for the test's questions). */
  readonly history = new Map<string, FakeTaskEntry[]>();
  private lastPid = 999;

  nextPid(): number {
    return ++this.lastPid;
  }
}

export interface FakeRuntimeOptions {
  /** Programs by argv[0] (exact, then basename), over the built-in ones; `notFound` marks a missing executable. */
  programs?: Record<string, FakeProgram>;
  events?: RuntimeEvents;
  host?: FakeHost;
}


export class FakeRuntime implements Runtime {
  readonly host: FakeHost;
  private readonly programs: Record<string, FakeProgram>;
  readonly faults = new FaultPlan();
  private closed = false;

  constructor(private readonly opts: FakeRuntimeOptions = {}) {
    this.host = opts.host ?? new FakeHost();
    this.programs = { ...BUILTIN_PROGRAMS, ...opts.programs };
  }

  // ---------------------------------------------------------------- test controls

  /** The process of task `id` (its latest run, deleted or not): its init, or the exec `execId`. */
  process(id: string, execId = ''): FakeProcess {
    const entry = this.entry(id);
    const proc = execId ? entry.execs.get(execId) : entry.init;
    if (!proc) throw new Error(`fake runtime: task ${id} has no exec ${execId}`);
    return proc;
  }

  /** `process(id, execId)` once it exists: a start runs through several awaits, more of them on a loaded machine. */
  async whenProcess(id: string, execId = '', timeoutMs = 10_000): Promise<FakeProcess> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return this.process(id, execId);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }

  /** The init of every run of `id`, oldest first. */
  runs(id: string): FakeProcess[] {
    return (this.host.history.get(id) ?? []).map((e) => e.init);
  }

  /** The runtime spec task `id` was created with. */
  spec(id: string): RuntimeSpec {
    return this.entry(id).spec;
  }

  /** Every `update` of task `id`, in order. */
  updates(id: string): SpecResources[] {
    return this.entry(id).resources;
  }

  /** The next `op` fails as runc would (RuntimeStartError with `message`). */
  failNext(op: FakeOp, message: string): void {
    this.faults.failNext(op, message);
  }

  /** The next `op` waits, once begun, until the test releases it (see fake-faults.ts). */
  hold(op: FakeOp): Hold {
    return this.faults.hold(op);
  }

  /** The shim of task `id` dies: handles lose contact, restore answers 'gone' (the shim's `delete` kills the task). */
  crashShim(id: string): void {
    const entry = this.entry(id);
    entry.shimDead = true;
    entry.killShim(new Error(`fake runtime: shim of ${id} is gone`));
  }

  /** The kernel OOM-kills the init of task `id`: the event first, then the exit (137). */
  oom(id: string): void {
    this.opts.events?.onOom?.(id);
    this.entry(id).init.deliver(9);
  }

  /** A new runtime over the same processes, as berthd has after a restart. */
  reopen(opts: Omit<FakeRuntimeOptions, 'host'> = {}): FakeRuntime {
    return new FakeRuntime({ ...this.opts, ...opts, host: this.host });
  }

  // ---------------------------------------------------------------- Runtime

  prepare(id: string, _group?: string): void {
    if (!this.host.tasks.has(id)) this.host.prepared.add(id);
  }

  async discard(id: string): Promise<void> {
    this.host.prepared.delete(id);
  }

  async create(t: TaskOptions): Promise<Task> {
    this.checkOpen();
    this.host.prepared.delete(t.id);
    await this.faults.take('create');
    if (this.host.tasks.has(t.id)) throw new RuntimeStartError(`task ${t.id}: already exists`);
    const args = t.spec.process.args;
    this.program(args); // a missing executable fails runc create
    const init = new FakeProcess(t.id, '', args, t.terminal, t.stdin);
    init.pid = this.host.nextPid();
    let killShim!: (err: Error) => void;
    const shimGone = new Promise<never>((_, reject) => (killShim = reject));
    shimGone.catch(() => {});
    const entry: FakeTaskEntry = { id: t.id, spec: t.spec, init, execs: new Map(), paused: false, queued: [], resources: [], shimDead: false, shimGone, killShim };
    init.whenExited(() => {
      // the pid namespace goes with its init
      for (const p of entry.execs.values()) if (p.state === 'running') p.exit(137);
    });
    this.host.tasks.set(t.id, entry);
    this.host.history.set(t.id, [...(this.host.history.get(t.id) ?? []), entry]);
    return new FakeTask(this, entry);
  }

  async restore(id: string): Promise<RestoreResult> {
    this.checkOpen();
    const gone = (exitCode: number): RestoreResult => ({ state: 'gone', exit: { exitCode, exitedAt: new Date() } });
    if (this.host.prepared.delete(id)) return gone(255);
    const entry = this.host.tasks.get(id);
    if (!entry) return gone(255);
    if (entry.shimDead) {
      this.host.tasks.delete(id);
      entry.init.deliver(9);
      return gone(entry.init.exitStatus?.exitCode ?? 255);
    }
    return { state: 'alive', task: new FakeTask(this, entry) };
  }

  async list(): Promise<string[]> {
    return [...this.host.tasks.keys(), ...this.host.prepared];
  }

  /** Like a daemon that went away: handles of this runtime no longer hear of exits (their waits never settle). */
  async close(): Promise<void> {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---------------------------------------------------------------- for the handles

  /** The program for argv; throws RuntimeStartError for a missing executable. */
  program(args: string[]): FakeProgram | undefined {
    const argv0 = args[0] ?? '';
    const program = this.programs[argv0] ?? this.programs[basename(argv0)];
    if (program === notFound || argv0 === '') {
      throw new RuntimeStartError(argv0.includes('/')
        ? `OCI runtime create failed: runc create failed: unable to start container process: exec: "${argv0}": stat ${argv0}: no such file or directory`
        : `OCI runtime create failed: runc create failed: unable to start container process: exec: "${argv0}": executable file not found in $PATH`);
    }
    return program;
  }

  checkOpen(): void {
    if (this.closed) throw new Error('fake runtime: closed');
  }

  private entry(id: string): FakeTaskEntry {
    const entry = this.host.tasks.get(id) ?? this.host.history.get(id)?.at(-1);
    if (!entry) throw new Error(`fake runtime: no task ${id}`);
    return entry;
  }
}

/** The daemon's end of a process's stdin: bytes go to the process; ending it is not EOF (closeStdin is). */
function stdinFor(proc: FakeProcess): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      proc.feedStdin(Buffer.from(chunk));
      cb();
    },
  });
}

class FakeProcessHandle implements RuntimeProcess {
  readonly io: ProcessIO;
  private waited: Promise<ExitStatus> | undefined;

  constructor(
    protected readonly rt: FakeRuntime,
    protected readonly entry: FakeTaskEntry,
    protected readonly proc: FakeProcess,
  ) {
    const out = proc.attachOutput();
    this.io = { ...out, ...(proc.hasStdin ? { stdin: stdinFor(proc) } : {}) };
  }

  get id(): string {
    return this.entry.id;
  }

  get pid(): number {
    return this.proc.pid;
  }

  async start(): Promise<void> {
    this.rt.checkOpen();
    this.checkShim();
    if (this.proc.state !== 'created') throw new RuntimeStartError(`process ${this.proc.execId || this.entry.id}: already started`);
    if (!this.proc.isInit && this.entry.init.state !== 'running') throw new RuntimeStartError('cannot exec in a stopped state');
    let program: FakeProgram | undefined;
    try {
      await this.rt.faults.take('start');
      program = this.rt.program(this.proc.args);
    } catch (err) {
      if (!this.proc.isInit) this.proc.exit(127); // a failed exec is over; it can be deleted
      throw err;
    }
    if (!this.proc.isInit) this.proc.pid = this.rt.host.nextPid();
    this.proc.state = 'running';
    if (program) {
      const p = this.proc;
      const run = program;
      setImmediate(() => {
        try {
          run(p);
        } catch {
          p.exit(255);
        }
      });
    }
  }

  wait(): Promise<ExitStatus> {
    // a closed runtime is a daemon that went away: it hears of nothing any more, exit or lost shim
    const deaf = () => new Promise<never>(() => {});
    this.waited ??= Promise.race([this.proc.exited(), this.entry.shimGone]).then(
      (s) => (this.rt.isClosed ? deaf() : s),
      (err: Error) => (this.rt.isClosed ? deaf() : Promise.reject(err)),
    );
    return this.waited;
  }

  async kill(signal: number): Promise<void> {
    this.signal(this.proc, signal);
  }

  protected signal(proc: FakeProcess, signal: number): void {
    this.checkShim();
    if (proc.state !== 'running') return; // finished meanwhile: nothing to do, as with the shim
    if (this.entry.paused) this.entry.queued.push({ proc, signal });
    else proc.deliver(signal);
  }

  async resize(width: number, height: number): Promise<void> {
    this.checkShim();
    this.proc.size = { width, height };
  }

  async closeStdin(): Promise<void> {
    this.checkShim();
    const stdin = this.io.stdin;
    if (stdin && !stdin.writableFinished) {
      // what is queued goes in first
      await new Promise<void>((resolve) => {
        stdin.once('finish', resolve);
        stdin.once('close', resolve);
        stdin.end();
      });
    }
    this.proc.closeStdin();
  }

  protected checkShim(): void {
    if (this.entry.shimDead) throw new Error(`fake runtime: shim of ${this.entry.id} is gone`);
  }

  protected closeIO(): void {
    this.io.stdin?.destroy();
    this.io.stdout.destroy();
    this.io.stderr?.destroy();
  }
}

class FakeExec extends FakeProcessHandle {
  async delete(): Promise<void> {
    this.checkShim();
    if (this.proc.state === 'running') throw new Error(`exec ${this.proc.execId}: cannot delete a running process`);
    if (this.entry.execs.get(this.proc.execId) === this.proc) this.entry.execs.delete(this.proc.execId);
    this.closeIO();
  }
}

class FakeTask extends FakeProcessHandle implements Task {
  constructor(rt: FakeRuntime, entry: FakeTaskEntry) {
    super(rt, entry, entry.init);
  }

  async status(): Promise<TaskStatus> {
    this.checkShim();
    if (!this.rt.host.tasks.has(this.entry.id)) throw new Error(`task ${this.entry.id}: not found`);
    if (this.proc.state === 'running' && this.entry.paused) return 'paused';
    return this.proc.state;
  }

  async killAll(signal: number): Promise<void> {
    for (const p of [this.entry.init, ...this.entry.execs.values()]) this.signal(p, signal);
  }

  async pause(): Promise<void> {
    this.checkShim();
    if (this.proc.state !== 'running' || this.entry.paused) throw new Error(`task ${this.entry.id}: cannot pause: not running`);
    this.entry.paused = true;
  }

  async resume(): Promise<void> {
    this.checkShim();
    if (!this.entry.paused) throw new Error(`task ${this.entry.id}: cannot resume: not paused`);
    this.entry.paused = false;
    for (const q of this.entry.queued.splice(0)) q.proc.deliver(q.signal);
  }

  async pids(): Promise<number[]> {
    this.checkShim();
    if (this.proc.state !== 'running') return [];
    return [this.proc.pid, ...[...this.entry.execs.values()].filter((p) => p.state === 'running').map((p) => p.pid)];
  }

  async update(resources: SpecResources): Promise<void> {
    this.checkShim();
    if (this.proc.state !== 'running') throw new Error(`task ${this.entry.id}: cannot update: not running`);
    this.entry.resources.push(resources);
  }

  async exec(opts: ExecOptions): Promise<RuntimeProcess & { delete(): Promise<void> }> {
    this.rt.checkOpen();
    this.checkShim();
    if (this.proc.state === 'stopped') throw new RuntimeStartError('cannot exec in a stopped state');
    if (this.entry.paused) throw new RuntimeStartError('cannot exec in a paused state');
    const old = this.entry.execs.get(opts.execId);
    if (old) throw new RuntimeStartError(`exec ${opts.execId}: id already in use`);
    await this.rt.faults.take('exec');
    const proc = new FakeProcess(this.entry.id, opts.execId, opts.process.args, opts.terminal, opts.stdin);
    this.entry.execs.set(opts.execId, proc);
    return new FakeExec(this.rt, this.entry, proc);
  }

  async delete(): Promise<void> {
    this.checkShim();
    if (this.rt.host.tasks.get(this.entry.id) !== this.entry) throw new Error(`task ${this.entry.id}: not found`);
    if (this.proc.state === 'running') throw new Error(`task ${this.entry.id}: cannot delete a running task`);
    if (this.proc.state === 'created') this.proc.exit(137); // runc delete --force ends the waiting init
    this.rt.host.tasks.delete(this.entry.id);
    this.closeIO();
  }
}
