import type { ContainerCreateRequest, ContainerInspect, ContainerSummary, HostConfig, WaitResponse } from '../../../../api/types/index.js';
import type { ListOptions } from '../../../containers/list.js';
import type { ContainerRecord } from '../../../containers/record.js';
import type { WaitCondition } from '../../../containers/service.js';
import type { StatsSample } from '../../../containers/stats.js';
import type { Attachment } from '../../../containers/streams.js';
import type { TopResult } from '../../../containers/top.js';
import type { LogLine } from '../../log-stream.js';

/** What `docker logs` asks for; times in nanoseconds since the epoch. */
export interface LogQuery {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** The last N entries of both streams together. */
  tail?: number;
  sinceNs?: bigint;
  untilNs?: bigint;
}

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
  prune(filters: Map<string, string[]>): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>;
  /** Waits out an exit being recorded, then attaches what `open` returns. */
  attach(ref: string, open: () => Attachment): Promise<{ rec: ContainerRecord; detach: () => void }>;
  resize(ref: string, height: number, width: number): Promise<void>;
}

/** What the container routes read; implemented by ContainerQueries. */
export interface ContainerViews {
  get(ref: string): ContainerRecord;
  inspect(ref: string, withSize?: boolean): Promise<ContainerInspect>;
  list(opts: Omit<ListOptions, 'isAncestor'> & { size?: boolean }): Promise<ContainerSummary[]>;
  /** Log entries, selected and (with follow) live until the signal aborts; throws NotFound before reading. */
  logs(ref: string, q: LogQuery, signal: AbortSignal): { tty: boolean; entries: AsyncIterable<LogLine> };
  top(ref: string, psArgs: string | undefined): Promise<TopResult>;
  /** One sample (one-shot), the second of two (no stream), or one a second until the signal aborts; throws NotFound first. */
  stats(ref: string, mode: { stream: boolean; oneShot: boolean }, signal?: AbortSignal): AsyncIterable<StatsSample>;
}
