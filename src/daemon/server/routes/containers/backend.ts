import type { Filters } from '../../../../api/filters.js';
import type { ContainerCreateRequest, ContainerInspect, ContainerSummary, HostConfig, WaitResponse } from '../../../../api/types/index.js';
import type { ListOptions } from '../../../containers/list.js';
import type { ContainerRecord } from '../../../containers/record.js';
import type { WaitCondition } from '../../../containers/service.js';
import type { StatsSample } from '../../../containers/stats.js';
import type { Attachment } from '../../../containers/streams.js';
import type { TopResult } from '../../../containers/top.js';
import type { JsonFileWriter } from '../../../logs/json-file.js';

/** What the container routes do to containers; implemented by ContainerService. */
export interface ContainerActions {
  create(req: ContainerCreateRequest, name?: string): Promise<{ Id: string; Warnings: string[] }>;
  start(ref: string): Promise<void>;
  stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void>;
  restart(ref: string, opts: { timeout?: number; signal?: string }): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  rename(ref: string, name: string): Promise<void>;
  update(ref: string, body: HostConfig): Promise<{ Warnings: string[] }>;
  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResponse>;
  remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void>;
  prune(filters: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>;
  /** Waits out an exit being recorded, then attaches what `open` returns. */
  attach(ref: string, open: () => Attachment): Promise<{ rec: ContainerRecord; detach: () => void }>;
  resize(ref: string, height: number, width: number): Promise<void>;
}

/** What the container routes read; implemented by ContainerQueries. */
export interface ContainerViews {
  get(ref: string): ContainerRecord;
  inspect(ref: string, withSize?: boolean): Promise<ContainerInspect>;
  list(opts: Omit<ListOptions, 'isAncestor'> & { size?: boolean }): Promise<ContainerSummary[]>;
  logSource(ref: string): { rec: ContainerRecord; path: string; writer: JsonFileWriter | undefined };
  top(ref: string, psArgs: string | undefined): Promise<TopResult>;
  stats(ref: string, previous?: StatsSample): Promise<StatsSample>;
}
