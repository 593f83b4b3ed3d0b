import type { ExecCreateRequest, ExecInspect } from '../../../../api/types/index.js';
import type { ExecStream } from '../../../containers/exec.js';
import type { ExecRecord } from '../../../containers/exec-registry.js';

/** What the exec routes call; implemented by ExecService. */
export interface ExecBackend {
  create(ref: string, req: ExecCreateRequest): { Id: string };
  check(id: string): ExecRecord;
  start(id: string, stream: ExecStream | undefined, consoleSize?: [number, number] | null): Promise<void>;
  inspect(id: string): ExecInspect;
  resize(id: string, height: number, width: number): Promise<void>;
}
