/**
 * Work a request starts but its answer need not wait for (a build's
 * clean-up once the image is tagged): whatever reads that work's results,
 * and the daemon's shutdown, wait for it instead.
 *
 *   tasks.add(() => removeWorkDir(), (err) => log.warn(...));
 *   await tasks.settled();   // every task added so far has ended
 */
export class BackgroundTasks {
  private readonly pending = new Set<Promise<void>>();

  /** Runs `task` now; a failure goes to `failed` (nobody awaits the task itself). */
  add(task: () => Promise<void>, failed: (err: unknown) => void): void {
    const p: Promise<void> = task().catch(failed).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Resolves once no task is left, including tasks added while waiting. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
