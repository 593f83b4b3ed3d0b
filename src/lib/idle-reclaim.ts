/**
 * Gives memory back once the daemon goes quiet after work. V8 collects only
 * when it allocates, so after a burst (a `ps` of hundreds of containers, a
 * big `logs`) the garbage and the buffers it holds stay resident for as long
 * as the daemon is idle. A full collection a few seconds after the last
 * request frees them; it costs a few milliseconds, never on a request.
 * Two more follow, a second apart while it stays quiet: V8 shrinks the young
 * generation and gives its spare pages back only in a collection that sees
 * little allocation since the previous one (about 2 MiB of an idle daemon,
 * issue 18).
 *
 *   const reclaim = new IdleReclaimer(fullGc());
 *   server.on('request', () => reclaim.poke());
 */
import { setFlagsFromString } from 'node:v8';

export class IdleReclaimer {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private dirty = false;
  /** Collections still to run in the current quiet spell, after the first. */
  private followUps = 0;

  constructor(
    private readonly collect: () => void,
    private readonly quietMs = 3_000,
    private readonly rounds = 3,
    private readonly settleMs = 1_000,
  ) {}

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
    if (this.dirty) {
      this.dirty = false;
      this.followUps = this.rounds - 1;
    } else if (this.followUps > 0) {
      this.followUps--;
    } else {
      return;
    }
    this.collect();
    if (this.followUps > 0) this.timer = setTimeout(() => this.fire(), this.settleMs).unref();
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
  return process.getBuiltinModule('node:vm').runInNewContext('gc') as () => void;
}
