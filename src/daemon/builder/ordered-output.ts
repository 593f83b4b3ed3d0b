/**
 * The progress stream of stages building at once, kept in the order a
 * sequential build would write it: the earliest unfinished stage streams
 * live, later stages' messages wait in memory until every stage before
 * them has finished, then go out whole. The classic `Step N/M` stream so
 * reads exactly as a one-stage-at-a-time build's.
 *
 *   order [0, 2, 3]: stage 0 streams; 2 and 3 buffer.
 *   finish(3)  -> nothing yet (0 and 2 still run)
 *   finish(0)  -> 2's buffer is flushed and 2 streams live from now on
 */
import type { JSONMessage } from '../../api/types/index.js';

export class OrderedOutput {
  private head = 0;
  private readonly buffers = new Map<number, JSONMessage[]>();
  private readonly finished = new Set<number>();

  constructor(private readonly order: number[], private readonly emit: (m: JSONMessage) => void) {
    for (const i of order) this.buffers.set(i, []);
  }

  /** The emitter for stage `i`. */
  writer(i: number): (m: JSONMessage) => void {
    return (m) => {
      if (this.order[this.head] === i) this.emit(m);
      else this.buffers.get(i)?.push(m);
    };
  }

  /** Stage `i` wrote its last message. */
  finish(i: number): void {
    this.finished.add(i);
    while (this.head < this.order.length && this.finished.has(this.order[this.head]!)) {
      this.head++;
      const next = this.order[this.head];
      if (next === undefined) break;
      for (const m of this.buffers.get(next) ?? []) this.emit(m);
      this.buffers.set(next, []);
    }
  }

  /** A failed build: everything still buffered goes out, in stage order. */
  flushAll(): void {
    for (const i of this.order.slice(this.head)) this.finish(i);
  }
}
