import type { ContainerCreateRequest, ContainerInspect, ContainerSummary, WaitResponse } from '../../../../api/types/index.js';
import type { ListOptions } from '../../../containers/list.js';
import type { ContainerRecord } from '../../../containers/record.js';
import type { WaitCondition } from '../../../containers/service.js';
import type { Attachment } from '../../../containers/streams.js';
import type { JsonFileWriter } from '../../../logs/json-file.js';

/** What the container routes call; implemented by ContainerService. */
export interface ContainersBackend {
  create(req: ContainerCreateRequest, name?: string): Promise<{ Id: string; Warnings: string[] }>;
  start(ref: string): Promise<void>;
  stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void>;
  restart(ref: string, opts: { timeout?: number; signal?: string }): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResponse>;
  remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void>;
  attach(ref: string, a: Attachment): { rec: ContainerRecord; detach: () => void };
  get(ref: string): ContainerRecord;
  resize(ref: string, height: number, width: number): Promise<void>;
  logSource(ref: string): { rec: ContainerRecord; path: string; writer: JsonFileWriter | undefined };
  inspect(ref: string): Promise<ContainerInspect>;
  list(opts: Omit<ListOptions, 'isAncestor'>): ContainerSummary[];
}
