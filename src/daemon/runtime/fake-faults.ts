/**
 * Faults a test plans for the fake runtime's next operations: a failure as
 * runc would report it, or a pause that lets the test act while the
 * operation is under way (a deterministic race).
 *
 *   fake.failNext('create', 'no space left on device');
 *   const held = fake.hold('create');
 *   const starting = service.start(id);
 *   await held.reached;                  // the start is inside runtime.create now
 *   const removing = service.remove(id, { force: true });
 *   held.release();
 */
import { RuntimeStartError } from './runtime.js';

export type FakeOp = 'create' | 'start' | 'exec';

export interface Hold {
  /** Resolves when the operation got to the hold. */
  reached: Promise<void>;
  /** Lets it go on. */
  release(): void;
}

export class FaultPlan {
  private readonly failures: { op: FakeOp; message: string }[] = [];
  private readonly holds: { op: FakeOp; arrive: () => void; released: Promise<void> }[] = [];

  failNext(op: FakeOp, message: string): void {
    this.failures.push({ op, message });
  }

  hold(op: FakeOp): Hold {
    let arrive!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((r) => (arrive = r));
    const released = new Promise<void>((r) => (release = r));
    this.holds.push({ op, arrive, released });
    return { reached, release };
  }

  /** Called as `op` begins: waits at a hold, then throws a planned failure. */
  async take(op: FakeOp): Promise<void> {
    const h = this.holds.findIndex((x) => x.op === op);
    if (h >= 0) {
      const [held] = this.holds.splice(h, 1);
      held!.arrive();
      await held!.released;
    }
    const i = this.failures.findIndex((f) => f.op === op);
    if (i < 0) return;
    const [f] = this.failures.splice(i, 1);
    throw new RuntimeStartError(f!.message);
  }
}
