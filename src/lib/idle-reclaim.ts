/**
 * Gives memory back once the daemon goes quiet after work. V8 collects only
 * when it allocates, so after a burst (a `ps` of hundreds of containers, a
 * big `logs`) the garbage and the buffers it holds stay resident for as long
 * as the daemon is idle. One full collection a few seconds after the last
 * request frees them; it costs a few milliseconds, never on a request.
 *
 *   const reclaim = new IdleReclaimer(fullGc());
 *   server.on('request', () => reclaim.poke());
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export class IdleReclaimer {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private dirty = false;

  constructor(private readonly collect: () => void, private readonly quietMs = 3_000) {}

  /** Work happened: collect once `quietMs` pass with no other poke. */
  poke(now = Date.now()): void {
    this.last = now;
    this.dirty = true;
    // one timer re-checked when it fires, not one cleared and re-made per request
    this.timer ??= setTimeout(() => this.fire(), this.quietMs).unref();
  }

  private fire(): void {
    this.timer = undefined;
    const idle = Date.now() - this.last;
    if (idle < this.quietMs) {
      this.timer = setTimeout(() => this.fire(), this.quietMs - idle).unref();
      return;
    }
    if (!this.dirty) return;
    this.dirty = false;
    this.collect();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * V8's full collection: the `gc` global when node runs with --expose-gc
 * (bin/berthd does), else one from a new context, which costs that context
 * (~1 MiB, issue 18).
 */
export function fullGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
