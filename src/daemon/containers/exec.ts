/**
 * `docker exec`: extra processes in a running container, through the same
 * shim. Created, started once (attached or detached), inspected for the
 * exit code.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { ExecCreateRequest, ExecInspect } from '../../api/types/index.js';
import { frame, StdStream } from '../../api/stdcopy.js';
import { Conflict, InvalidParameter } from '../../errdefs/index.js';
import { newId } from '../../lib/ids.js';
import { span } from '../../lib/spans.js';
import { consume, whenWritable } from '../../lib/streams.js';
import { cleanupFailed, type Logger } from '../../lib/logger.js';
import type { SpecProcess } from '../../oci/runtime-spec.js';
import type { EventBus } from '../events/event-bus.js';
import { RuntimeStartError, type Task } from '../runtime/runtime.js';
import { execInspectView, type ExecRecord, type ExecRegistry } from './exec-registry.js';
import { formatGoDuration } from '../../lib/go-time.js';
import { LimitedOutput } from './health.js';
import type { ContainerRecord } from './record.js';
import { capabilities, processEnv } from './spec.js';
import { resolveUser } from './user.js';

export interface ExecDeps {
  registry: ExecRegistry;
  events: EventBus;
  log: Logger;
  /** The container's record and live task; Conflict when it is not running. */
  runningTask(ref: string): { rec: ContainerRecord; task: Task };
  /** A file of the running container's rootfs (for /etc/passwd), scoped to it. */
  readRootfsFile(id: string, path: string): Promise<string | undefined>;
  /** The daemon's bounding capabilities: what `exec --privileged` can grant. */
  availableCapabilities?: string[];
}

export interface ExecStream {
  output: Writable;
  stdin?: Readable;
  /** Multiplex stdout/stderr (non-TTY, API ≥ 1.42 or any hijack without TTY). */
  tty: boolean;
}

/** dockerd (20.10, as users compare) gives 126 for any exec that could not start; `run` keeps 127 for a missing command. */
const EXEC_START_FAILED = 126;
/** moby gives a wedged exec start this long before the probe counts as failed. */
const PROBE_START_TIMEOUT_MS = 30_000;
const SIGKILL = 9;

export class ExecService {
  constructor(private readonly d: ExecDeps) {}

  create(ref: string, req: ExecCreateRequest): { Id: string } {
    if (!req.Cmd || req.Cmd.length === 0) throw new InvalidParameter('exec.no_command', 'No exec command specified');
    const { rec } = this.d.runningTask(ref);
    const id = newId();
    this.d.registry.add({ id, containerId: rec.id, config: { ...req, Cmd: req.Cmd }, running: false, exitCode: null, pid: 0, started: false });
    this.d.events.publish('container', `exec_create: ${req.Cmd.join(' ')}`, rec.id, { execID: id, image: rec.config.Image, name: rec.name });
    return { Id: id };
  }

  inspect(id: string): ExecInspect {
    return execInspectView(this.d.registry.get(id));
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const e = this.d.registry.get(id);
    if (!e.process) throw new Conflict('exec.not_running', `Exec ${id} is not running`);
    await e.process.resize(width, height);
  }

  /** Checks that an exec can start, before a handler hijacks the connection. */
  check(id: string): ExecRecord {
    const e = this.d.registry.get(id);
    if (e.running) throw new Conflict('exec.already_running', `Error: Exec command ${id} is already running`);
    if (e.started) throw new Conflict('exec.already_ran', `Error: Exec command ${id} has already run`);
    this.d.runningTask(e.containerId);
    return e;
  }

  /**
   * Starts the exec. Attached: resolves after the output ended and the exit
   * code is known. Detached (no stream): resolves once the process runs.
   */
  async start(id: string, stream: ExecStream | undefined, consoleSize?: [number, number] | null): Promise<void> {
    const e = this.check(id);
    e.started = true;
    const { rec, task } = this.d.runningTask(e.containerId);
    const cmd = e.config.Cmd.join(' ');
    const tty = !!e.config.Tty;
    let proc;
    let outputDone: Promise<void> = Promise.resolve();
    let inputDone: Promise<void> | undefined;
    try {
      const process = await span('exec process spec', () => this.processSpec(rec, e));
      proc = await span('task exec', () => task.exec({ execId: id, process, terminal: tty, stdin: !!e.config.AttachStdin && !!stream?.stdin }));
      e.process = proc;
      if (stream) ({ outputDone, inputDone } = this.pipe(proc, stream));
      else {
        proc.io.stdout.resume(); // nobody reads a detached exec's output: drain it so it never blocks
        proc.io.stderr?.resume();
      }
      const p = proc;
      await span('exec start', () => p.start());
      // the shim opens an exec's stdin at start: EOF can only be delivered after it
      const started = proc;
      void inputDone?.then(() => started.closeStdin()).catch(cleanupFailed(this.d.log, 'close the exec stdin', { id }));
      if (tty && consoleSize && consoleSize[0] && consoleSize[1]) await proc.resize(consoleSize[1], consoleSize[0]).catch(cleanupFailed(this.d.log, 'size the exec terminal', { id }));
    } catch (err) {
      e.exitCode = EXEC_START_FAILED;
      await proc?.delete().catch(cleanupFailed(this.d.log, 'delete the exec that failed to start', { id }));
      const message = err instanceof RuntimeStartError
        ? `${err.message.startsWith('OCI runtime') ? '' : 'OCI runtime exec failed: '}${err.message}: unknown`
        : (err as Error).message;
      if (!stream) throw new InvalidParameter('exec.start_failed', message);
      // attached: the 101 is gone already, so the error travels in the stream as Docker does
      const text = Buffer.from(message + '\r\n');
      if (!stream.output.writableEnded) stream.output.end(stream.tty ? text : frame(StdStream.Stdout, text));
      return;
    }
    e.running = true;
    e.pid = proc.pid;
    this.d.events.publish('container', `exec_start: ${cmd}`, rec.id, { execID: id, image: rec.config.Image, name: rec.name });
    const finished = this.finish(e, proc, rec, outputDone);
    if (stream) {
      await finished;
      // the client reads the exit code right after EOF: end only once it is recorded
      stream.output.end();
    }
  }

  private async finish(e: ExecRecord, proc: NonNullable<ExecRecord['process']>, rec: ContainerRecord, outputDone: Promise<void>): Promise<void> {
    let code = 255;
    try {
      code = (await span('exec wait', () => proc.wait())).exitCode;
    } catch (err) {
      this.d.log.warn('exec wait failed', { id: e.id, error: (err as Error).message });
    }
    // the process is gone; give its last output a moment to drain, but never hang on it
    await span('exec output drain', () => Promise.race([outputDone, new Promise((r) => setTimeout(r, 2000).unref())]));
    await span('exec delete', () => proc.delete()).catch(cleanupFailed(this.d.log, 'delete the exec', { id: e.id }));
    e.exitCode = code;
    e.running = false;
    e.process = undefined;
    this.d.events.publish('container', 'exec_die', rec.id, { execID: e.id, exitCode: String(code), image: rec.config.Image, name: rec.name });
  }

  /**
   * One healthcheck probe (moby cmdProbe.run): `argv` as an exec with the
   * container's user, env and working dir, stdout and stderr kept together
   * up to 4096 bytes. Past `timeoutMs` after its start, or when `signal`
   * aborts, it is killed; a timeout is exit code -1 with moby's message.
   * The exec is listed (ExecIDs, exec inspect) only while it runs.
   */
  async probe(containerId: string, argv: string[], timeoutMs: number, signal: AbortSignal): Promise<{ exitCode: number; output: string }> {
    const { rec, task } = this.d.runningTask(containerId);
    const e: ExecRecord = {
      id: newId(), containerId: rec.id, config: { Cmd: argv, AttachStdout: true, AttachStderr: true },
      running: false, exitCode: null, pid: 0, started: true,
    };
    const attrs = { execID: e.id, image: rec.config.Image, name: rec.name };
    const cmd = argv.join(' ');
    this.d.registry.add(e);
    this.d.events.publish('container', `exec_create: ${cmd}`, rec.id, attrs);
    const output = new LimitedOutput();
    let proc: NonNullable<ExecRecord['process']> | undefined;
    const timers: NodeJS.Timeout[] = [];
    const kill = () => void proc?.kill(SIGKILL).catch(cleanupFailed(this.d.log, 'kill the probe', { id: e.id }));
    try {
      const process = await this.processSpec(rec, e);
      proc = await task.exec({ execId: e.id, process, terminal: false, stdin: false });
      const p = proc;
      const outputDone = Promise.all([p.io.stdout, ...(p.io.stderr ? [p.io.stderr] : [])].map((s) => new Promise<void>((resolve) => {
        s.on('data', (c: Buffer) => output.write(c));
        s.once('end', resolve);
        s.once('close', resolve);
        s.once('error', () => resolve());
      })));
      const startTimeout = new Promise<never>((_, reject) => timers.push(setTimeout(
        () => reject(new Error(`timed out starting health check for container ${rec.id}`)), PROBE_START_TIMEOUT_MS).unref()));
      await Promise.race([p.start(), startTimeout]);
      e.running = true;
      e.pid = p.pid;
      this.d.events.publish('container', `exec_start: ${cmd}`, rec.id, attrs);
      let timedOut = false;
      timers.push(setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs).unref());
      signal.addEventListener('abort', kill, { once: true });
      if (signal.aborted) kill();
      let code = 255;
      try {
        code = (await p.wait()).exitCode;
      } finally {
        signal.removeEventListener('abort', kill);
      }
      // a killed shell's children may hold the pipes open: wait for the output only briefly then
      await Promise.race([outputDone, new Promise((r) => timers.push(setTimeout(r, timedOut ? 200 : 2000).unref()))]);
      e.exitCode = code;
      this.d.events.publish('container', 'exec_die', rec.id, { ...attrs, exitCode: String(code) });
      if (!timedOut) return { exitCode: code, output: output.toString() };
      const out = output.toString();
      return { exitCode: -1, output: `Health check exceeded timeout (${formatGoDuration(1e6 * timeoutMs)})${out ? `: ${out}` : ''}` };
    } catch (err) {
      kill();
      if (err instanceof RuntimeStartError) {
        throw new Error(`${err.message.startsWith('OCI runtime') ? '' : 'OCI runtime exec failed: '}${err.message}: unknown`);
      }
      throw err;
    } finally {
      for (const t of timers) clearTimeout(t);
      e.running = false;
      this.d.registry.remove(e.id);
      await proc?.delete().catch(cleanupFailed(this.d.log, 'delete the probe', { id: e.id }));
    }
  }

  /** Copies the process's output to the client and the client's input to it. */
  private pipe(proc: NonNullable<ExecRecord['process']>, s: ExecStream): { outputDone: Promise<void>; inputDone?: Promise<void> } {
    const io = proc.io;
    // a client that goes away leaves the exec running: its output is then drained, never blocked
    let gone = false;
    s.output.once('close', () => {
      gone = true;
      io.stdout.resume();
      io.stderr?.resume();
    });
    const pump = (src: Readable, streamId: StdStream) => new Promise<void>((resolve) => {
      src.on('data', (chunk: Buffer) => {
        if (gone || s.output.writableEnded) return;
        if (!s.output.write(s.tty ? chunk : frame(streamId, chunk))) {
          src.pause();
          void once(s.output, 'drain').finally(() => src.resume());
        }
      });
      src.once('end', resolve);
      src.once('close', resolve);
      src.once('error', () => resolve());
    });
    const done = Promise.all([pump(io.stdout, StdStream.Stdout), ...(io.stderr ? [pump(io.stderr, StdStream.Stderr)] : [])]).then(() => {});
    let inputDone: Promise<void> | undefined;
    if (s.stdin && io.stdin) {
      const target = io.stdin;
      const input = s.stdin;
      // at the pace the process reads: a full pipe pauses the client
      inputDone = new Promise((resolve) => consume(input, (c) => {
        if (target.write(c)) return;
        input.pause();
        void whenWritable(target).then(() => input.resume());
      }, resolve));
    }
    return inputDone ? { outputDone: done, inputDone } : { outputDone: done };
  }

  private async processSpec(rec: ContainerRecord, e: ExecRecord): Promise<SpecProcess> {
    const userSpec = e.config.User || rec.config.User;
    const [passwd, group] = await Promise.all([
      this.d.readRootfsFile(rec.id, '/etc/passwd'),
      this.d.readRootfsFile(rec.id, '/etc/group'),
    ]);
    const user = resolveUser(userSpec, passwd, group, rec.hostConfig.GroupAdd ?? []);
    const privileged = !!e.config.Privileged || !!rec.hostConfig.Privileged;
    const caps = capabilities(rec.hostConfig.CapAdd, rec.hostConfig.CapDrop, privileged, this.d.availableCapabilities);
    const p: SpecProcess = {
      terminal: !!e.config.Tty,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args: e.config.Cmd,
      env: processEnv(rec.config.Hostname, !!e.config.Tty, [...(rec.config.Env ?? []), ...(e.config.Env ?? [])]),
      cwd: e.config.WorkingDir || rec.config.WorkingDir || '/',
      capabilities: user.uid === 0 || privileged ? { bounding: caps, effective: caps, permitted: caps } : { bounding: caps },
    };
    if ((rec.hostConfig.SecurityOpt ?? []).some((o) => o.startsWith('no-new-privileges') && !o.endsWith('false'))) p.noNewPrivileges = true;
    return p;
  }
}
