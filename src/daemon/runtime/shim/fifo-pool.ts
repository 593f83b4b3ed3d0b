/**
 * FIFOs made ahead of time. Node has no mkfifo(2), and spawning mkfifo(1)
 * costs milliseconds on every container start and exec; instead one spawn
 * makes a batch in `<execRoot>/fifos/` and each process takes what it needs
 * by rename (same filesystem), while a refill runs in the background.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { mkfifo } from './fifo.js';

const BATCH = 48;
const LOW_WATER = 12;

export class FifoPool {
  private spare: string[] = [];
  private refilling: Promise<void> | undefined;

  constructor(private readonly dir: string) {}

  async init(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
    await this.refill();
  }

  private refill(): Promise<void> {
    this.refilling ??= (async () => {
      // one random read for the batch, and names by concatenation: a batch of path.join()s at boot
      // was enough to get node's path code optimized, which maps the optimizing compiler in (issue 18)
      const hex = randomBytes(8 * BATCH).toString('hex');
      const fresh = Array.from({ length: BATCH }, (_, i) => `${this.dir}/${hex.slice(16 * i, 16 * i + 16)}`);
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
