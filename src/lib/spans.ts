/**
 * Per-request spans: where the time of one API request (or one background
 * job, such as a container's exit handling) goes.
 *
 *   tracer.enable(50);                                   // berthd --debug
 *   await tracer.trace('POST /containers/x/start', async () => {
 *     await span('mount rootfs', () => mount(...));     // nested spans work
 *     await span('ttrpc Create', () => client.call(...));
 *   });
 *   tracer.recent()   // -> [{ name, startedAt, ms, spans: [{ name, at, ms, depth }] }]
 *
 * The current trace follows the async context (AsyncLocalStorage), so code
 * deep in lib/ or a store records spans without being handed anything.
 * Disabled (the default), `span()` is one `getStore()` returning undefined and
 * a direct call: no allocation, and AsyncLocalStorage is never entered, so
 * Node never installs its promise hooks.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface SpanRecord {
  name: string;
  /** ms from the start of the trace */
  at: number;
  /** duration in ms; undefined while still open (or never closed) */
  ms?: number;
  /** nesting depth, 0 for top-level spans */
  depth: number;
  error?: string;
}

export interface TraceRecord {
  name: string;
  startedAt: string;
  /** whole duration in ms; undefined while still running (a stream being followed) */
  ms?: number;
  status?: number;
  spans: SpanRecord[];
  /** spans not recorded because the trace hit its cap */
  dropped?: number;
}

/** Spans past this many in one trace are counted, not kept: a long-lived context must not grow a trace without end. */
const MAX_SPANS = 200;

interface Active {
  record: TraceRecord;
  start: number;
  depth: number;
}

export class Tracer {
  private readonly als = new AsyncLocalStorage<Active>();
  private ring: TraceRecord[] = [];
  private next = 0;
  private capacity = 0;

  get enabled(): boolean {
    return this.capacity > 0;
  }

  /** Keeps the last `capacity` traces (0 disables tracing and forgets them). */
  enable(capacity: number): void {
    this.capacity = Math.max(0, Math.floor(capacity));
    this.ring = [];
    this.next = 0;
  }

  /**
   * Runs `fn` as a new trace, replacing any trace inherited from the async
   * context (a shim's exit arrives on a socket created by the start request).
   * `done` receives the record when `fn` settles.
   */
  trace<T>(name: string, fn: () => T, done?: (t: TraceRecord) => void): T {
    if (this.capacity === 0) return fn();
    const record: TraceRecord = { name, startedAt: new Date().toISOString(), spans: [] };
    const active: Active = { record, start: performance.now(), depth: 0 };
    this.keep(record);
    const finish = (): void => {
      record.ms = round(performance.now() - active.start);
      done?.(record);
    };
    const out = this.als.run(active, fn);
    if (isPromise(out)) {
      out.then(finish, finish);
    } else finish();
    return out;
  }

  /** The trace of the current async context, to add a status or read it; undefined when none. */
  current(): TraceRecord | undefined {
    return this.als.getStore()?.record;
  }

  /** Records `fn` as a span of the current trace; with no trace it is just `fn()`. */
  span<T>(name: string, fn: () => T): T {
    const active = this.als.getStore();
    if (!active) return fn();
    const record = active.record;
    if (record.spans.length >= MAX_SPANS) {
      record.dropped = (record.dropped ?? 0) + 1;
      return fn();
    }
    const t0 = performance.now();
    const s: SpanRecord = { name, at: round(t0 - active.start), depth: active.depth };
    record.spans.push(s);
    // children see one level deeper; a copy so sibling spans started concurrently keep their own depth
    const out = this.als.run({ record, start: active.start, depth: active.depth + 1 }, fn);
    const end = (err?: unknown): void => {
      s.ms = round(performance.now() - t0);
      if (err !== undefined) s.error = err instanceof Error ? err.message : String(err);
    };
    if (isPromise(out)) out.then(() => end(), (err: unknown) => end(err ?? 'failed'));
    else end();
    return out;
  }

  /** The kept traces, oldest first. */
  recent(): TraceRecord[] {
    if (this.ring.length < this.capacity) return [...this.ring];
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  private keep(record: TraceRecord): void {
    if (this.ring.length < this.capacity) this.ring.push(record);
    else this.ring[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
  }
}

/** One line for a debug log: `total=12.3 mount=2.1 ttrpc.Create=5.0 ...` (top-level spans, in order). */
export function summarize(t: TraceRecord): string {
  const parts = [`total=${t.ms ?? '?'}`];
  for (const s of t.spans) if (s.depth === 0) parts.push(`${s.name.replace(/\s+/g, '.')}=${s.ms ?? 'open'}`);
  if (t.dropped) parts.push(`dropped=${t.dropped}`);
  return parts.join(' ');
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as Promise<unknown> | undefined)?.then === 'function';
}

/** The daemon's one tracer: lib code records spans without being wired to it. */
export const tracer = new Tracer();

/** `tracer.span`, bound: `await span('mount', () => mount(plan, dir))`. */
export function span<T>(name: string, fn: () => T): T {
  return tracer.span(name, fn);
}
