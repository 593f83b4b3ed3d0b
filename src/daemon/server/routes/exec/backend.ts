import type { Readable, Writable } from 'node:stream';
import type { ExecCreateRequest, ExecInspect } from '../../../../api/types/index.js';

/** Where a started exec's output goes and its input comes from. */
export interface ExecStream {
  output: Writable;
  stdin?: Readable;
  /** Multiplex stdout/stderr (non-TTY, API ≥ 1.42 or any hijack without TTY). */
  tty: boolean;
}

/** An exec as the start route sees it: enough to pick the framing. */
export interface ExecRef {
  id: string;
  config: ExecCreateRequest;
}

/** What the exec routes call; implemented by ExecService. */
export interface ExecBackend {
  create(ref: string, req: ExecCreateRequest): { Id: string };
  /** The exec, if it can start: NotFound or Conflict otherwise. */
  check(id: string): ExecRef;
  start(id: string, stream: ExecStream | undefined, consoleSize?: [number, number] | null): Promise<void>;
  inspect(id: string): ExecInspect;
  resize(id: string, height: number, width: number): Promise<void>;
}
