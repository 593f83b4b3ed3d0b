/**
 * A container's stdio while it runs: output goes to the log file and to
 * every attached client; attached stdin goes to the process (held until it
 * starts). One per container, outliving individual runs. A client attached
 * between two runs gets the next run; one attached during a run gets that
 * run's output from then on, and its end once the exit is known.
 *
 *   const s = new ContainerStreams(); s.attach({ stdout: true, stderr: true, sink, onEnd });
 *   const outputDone = s.connect(task.io, logWriter, { stdinOnce: true, ... });   // at start
 *   await task.wait(); await outputDone; s.endRun();                           // at exit
 */
import type { Readable, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { DetachMatcher } from '../../lib/detach-keys.js';
import { consume, whenWritable } from '../../lib/streams.js';
import { LineSplitter, type LogStream } from '../logs/entry.js';
import type { JsonFileWriter } from '../logs/json-file.js';
import type { ProcessIO } from '../runtime/runtime.js';

export interface Attachment {
  stdout: boolean;
  stderr: boolean;
  /** Receives output; returns false when the client is backed up. */
  sink(stream: LogStream, data: Buffer): boolean;
  /** Resolves when the client can take more. */
  drained(): Promise<void>;
  /** Output ended (the process exited) or the container stopped. */
  onEnd(): void;
  /** The client's input, if it attached stdin. */
  stdin?: Readable;
  /** With a TTY: the key sequence that detaches this client (ctrl-p ctrl-q), leaving stdin open. */
  detachKeys?: number[];
}

export interface ConnectOptions {
  /** Close the process's stdin when the first attached client's stdin ends (never with a TTY: moby's rule). */
  stdinOnce: boolean;
  tty: boolean;
  /** Called to deliver EOF to the process. */
  closeStdin(): Promise<void>;
}

export class ContainerStreams {
  /** Each attached client and the function that detaches it. */
  private readonly attachments = new Map<Attachment, () => void>();
  private stdinTarget: Writable | undefined;
  private pendingStdin: Buffer[] = [];
  /** Clients whose input waits until the process can take more (or until it starts). */
  private readonly held = new Set<Readable>();
  private waitingForDrain = false;
  private stdinEnded = false;
  private opts: ConnectOptions | undefined;
  private running = false;
  /** Output streams of the current run not yet ended. */
  private outputsOpen = 0;
  /** When output last moved, and how many outputs wait for a slow log or client: for `settled`. */
  private lastOutputAt = 0;
  private stalled = 0;
  /**
   * Clients that attached after the run's output had ended but before its
   * exit was recorded: nothing of that run can reach them, so they get the
   * next one (docker-compose attaches right after its start, then starts a
   * container that already exited again).
   */
  private readonly forNextRun = new Set<Attachment>();

  /** Adds a client; returns the function that detaches it. */
  attach(a: Attachment): () => void {
    let detached = false;
    const detach = () => {
      if (detached) return;
      detached = true;
      this.attachments.delete(a);
      this.forNextRun.delete(a);
      a.stdin?.removeAllListeners('data');
      // what it still sends goes nowhere, so that its socket sees the end of the connection
      if (a.stdin && this.held.delete(a.stdin)) a.stdin.resume();
    };
    this.attachments.set(a, detach);
    if (this.running && this.outputsOpen === 0) this.forNextRun.add(a);
    if (a.stdin) {
      const source = a.stdin;
      const matcher = a.detachKeys ? new DetachMatcher(a.detachKeys) : undefined;
      consume(source, (chunk) => {
        if (detached) return;
        if (!matcher) return this.input(chunk, source);
        const { pass, detached: hit } = matcher.push(chunk);
        if (pass.length) this.input(pass, source);
        if (hit) {
          detach();
          a.onEnd();
        }
      }, () => {
        // a client that detached or went away is not an EOF for the process
        if (detached) return;
        if (this.opts?.tty) {
          // moby: with a TTY the end of a client's input only ends that client's session
          detach();
          a.onEnd();
          return;
        }
        this.inputEnded();
      });
    }
    return detach;
  }

  /** Passes a client's input on at the pace the process reads it: a full pipe pauses the client. */
  private input(chunk: Buffer, source: Readable): void {
    const target = this.stdinTarget;
    if (!target) {
      if (this.running) return; // a process without stdin (no OpenStdin)
      this.pendingStdin.push(chunk); // held for the start
    } else if (target.write(chunk)) return;
    source.pause();
    this.held.add(source);
    this.releaseWhenWritable();
  }

  private releaseWhenWritable(): void {
    const target = this.stdinTarget;
    if (!target || this.waitingForDrain) return;
    this.waitingForDrain = true;
    void whenWritable(target).then(() => {
      if (this.stdinTarget !== target) return; // that run ended; the next connect releases
      this.waitingForDrain = false;
      for (const s of this.held) s.resume();
      this.held.clear();
    });
  }

  private inputEnded(): void {
    if (this.opts && !this.opts.stdinOnce) return;
    this.stdinEnded = true;
    if (this.running) void this.opts?.closeStdin().catch(() => {});
  }

  /** Wires a started (or restored) process; resolves when its output streams ended (see `endRun`). */
  connect(io: ProcessIO, log: JsonFileWriter, opts: ConnectOptions): Promise<void> {
    this.opts = opts;
    this.running = true;
    if (io.stdin) {
      this.stdinTarget = io.stdin;
      for (const c of this.pendingStdin) io.stdin.write(c);
      this.pendingStdin = [];
      this.waitingForDrain = false;
      this.releaseWhenWritable();
      if (this.stdinEnded) void opts.closeStdin().catch(() => {});
    } else {
      this.pendingStdin = [];
      for (const s of this.held) s.resume();
      this.held.clear();
    }
    const outputs: [Readable, LogStream][] = [[io.stdout, 'stdout']];
    if (io.stderr) outputs.push([io.stderr, 'stderr']);
    this.outputsOpen = outputs.length;
    return Promise.all(outputs.map(([r, name]) => this.pump(r, name, log))).then(() => {});
  }

  private pump(source: Readable, stream: LogStream, log: JsonFileWriter): Promise<void> {
    const lines = new LineSplitter((line) => {
      if (!log.write(stream, line)) waits.push(log.drain());
    });
    let waits: Promise<void>[] = [];
    return new Promise<void>((resolve) => {
      source.on('data', (chunk: Buffer) => {
        this.lastOutputAt = Date.now();
        lines.push(chunk);
        for (const a of this.attachments.keys()) {
          if (a[stream] && !a.sink(stream, chunk)) waits.push(a.drained());
        }
        if (waits.length) {
          const pending = waits;
          waits = [];
          source.pause();
          this.stalled++;
          void Promise.all(pending).finally(() => {
            this.stalled--;
            this.lastOutputAt = Date.now();
            source.resume();
          });
        }
      });
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        this.outputsOpen--;
        lines.end();
        resolve();
      };
      source.once('end', finish);
      source.once('error', finish);
      source.once('close', finish);
    });
  }

  /**
   * After the process exited: resolves when `outputDone` does, or once no
   * output has moved for `idleMs`, or after `capMs` in all. A process the
   * container's exit did not kill (host or shared PID namespace) can hold the
   * pipes open; output that still flows, held up only by a log rotating or a
   * slow client, is waited for, so a loaded machine does not cut the log short.
   */
  async settled(outputDone: Promise<void>, idleMs: number, capMs: number): Promise<void> {
    const start = Date.now();
    let done = false;
    void outputDone.then(() => (done = true));
    while (!done) {
      const now = Date.now();
      const quiet = this.stalled > 0 ? 0 : now - Math.max(this.lastOutputAt, start);
      const wait = Math.min(idleMs - quiet, capMs - (now - start));
      if (wait <= 0) return;
      await Promise.race([outputDone, delay(wait, undefined, { ref: false })]);
    }
  }

  /**
   * The run's process exited and its output was passed on: ends the clients
   * attached to it. Those that attach from now on wait for the next run.
   */
  endRun(): void {
    this.running = false;
    this.outputsOpen = 0;
    this.stdinTarget = undefined;
    this.stdinEnded = false;
    this.waitingForDrain = false;
    for (const [a, detach] of this.attachments) {
      if (this.forNextRun.has(a)) continue;
      detach();
      a.onEnd();
    }
    this.forNextRun.clear();
  }

  /** Ends every attachment without output (start failed, or the container is going away). */
  endAll(): void {
    this.pendingStdin = [];
    this.forNextRun.clear();
    this.endRun();
  }
}
