import type { Readable } from 'node:stream';
import type { Filters } from '../../../../api/filters.js';
import type {
  ContainerCreateRequest, ContainerInspect, HostConfig, StatsSample, TopResult, WaitCondition, WaitResponse,
} from '../../../../api/types/index.js';
import type { LogLine } from '../../log-stream.js';

/** A container as the routes see it: enough to pick the framing of its streams. */
export interface ContainerRef {
  id: string;
  config: { Tty: boolean };
}

export type OutputStream = 'stdout' | 'stderr';

/** A client attached to a container's stdio, as an attach route builds it. */
export interface Attachment {
  stdout: boolean;
  stderr: boolean;
  /** Receives output; returns false when the client is backed up. */
  sink(stream: OutputStream, data: Buffer): boolean;
  /** Resolves when the client can take more. */
  drained(): Promise<void>;
  /** Output ended (the process exited) or the container stopped. */
  onEnd(): void;
  /** The client's input, if it attached stdin. */
  stdin?: Readable;
  /** With a TTY: the key sequence that detaches this client, leaving stdin open. */
  detachKeys?: number[];
}

/** `docker ps`: which containers. */
export interface ListQuery {
  all: boolean;
  limit?: number;
  filters: Filters;
  size?: boolean;
}

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
  prune(filters: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>;
  /** Waits out an exit being recorded, then attaches what `open` returns. */
  attach(ref: string, open: () => Attachment): Promise<{ detach: () => void }>;
  resize(ref: string, height: number, width: number): Promise<void>;
}

/** What the container routes read; implemented by ContainerQueries. */
export interface ContainerViews {
  get(ref: string): ContainerRef;
  inspect(ref: string, withSize?: boolean): Promise<ContainerInspect>;
  /** The `ps` list as JSON text (rows cached per container). */
  listJson(q: ListQuery): Promise<string>;
  /** Log entries, selected and (with follow) live until the signal aborts; throws NotFound before reading (the websocket attach's replay). */
  logs(ref: string, q: LogQuery, signal: AbortSignal): { tty: boolean; entries: AsyncIterable<LogLine> };
  /**
   * The log as wire bytes (stdcopy frames without a tty), selected and (with
   * follow) live until the signal aborts; throws NotFound before reading.
   */
  logWire(ref: string, q: LogQuery, format: { timestamps: boolean; details: boolean; coalesce?: boolean }, signal: AbortSignal): { tty: boolean; chunks: AsyncIterable<Buffer> };
  top(ref: string, psArgs: string | undefined): Promise<TopResult>;
  /** One sample (one-shot), the second of two (no stream), or one a second until the signal aborts; throws NotFound first. */
  stats(ref: string, mode: { stream: boolean; oneShot: boolean }, signal?: AbortSignal): AsyncIterable<StatsSample>;
}
