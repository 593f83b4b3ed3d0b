/**
 * FIFOs made ahead of time. Node has no mkfifo(2), and spawning mkfifo(1)
 * costs milliseconds on every container start and exec; instead one spawn
 * makes a batch in `<execRoot>/fifos/` and each process takes what it needs
 * by rename (same filesystem), while a refill runs in the background.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { mkfifo } from './fifo.js';

const BATCH = 48;
const LOW_WATER = 12;

export class FifoPool {
  private spare: string[] = [];
  private refilling: Promise<void> | undefined;
  private made = 0;

  constructor(private readonly dir: string) {}

  async init(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
    await this.refill();
  }

  private refill(): Promise<void> {
    this.refilling ??= (async () => {
      // names from a counter (the directory is emptied at init and only this pool writes there), by
      // concatenation: random names needed node:crypto at boot, and a batch of path.join()s got node's
      // path code optimized, which maps the optimizing compiler in (issue 18)
      const fresh = Array.from({ length: BATCH }, () => `${this.dir}/f${(this.made++).toString(36)}`);
      await mkfifo(fresh);
      this.spare.push(...fresh);
    })().finally(() => (this.refilling = undefined));
    return this.refilling;
  }

  /** Moves a fresh FIFO to each of `paths`. */
  async take(paths: string[]): Promise<void> {
    while (this.spare.length < paths.length) await this.refill();
    const taken = this.spare.splice(0, paths.length);
    if (this.spare.length < LOW_WATER) void this.refill().catch(() => {});
    await Promise.all(taken.map((from, i) => rename(from, paths[i]!)));
  }
}
