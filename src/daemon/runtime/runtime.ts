/**
 * The runtime boundary: the only code that starts processes in containers.
 * The daemon is never their parent; a shim per container holds stdio and the
 * exit status, so containers outlive a daemon restart.
 *
 *   const task = await runtime.create({ id, spec, rootfs, terminal: false, stdin: true });
 *   task.io.stdout.pipe(logger);      // streams are live before start
 *   await task.start();
 *   const { exitCode } = await task.wait();
 *   await task.delete();              // ends the shim (the caller unmounts the rootfs it mounted)
 */
import type { Readable, Writable } from 'node:stream';
import type { Mount, RuntimeSpec, SpecProcess, SpecResources } from '../../oci/runtime-spec.js';

export interface ProcessIO {
  /** Present when the process was created with stdin. */
  stdin?: Writable;
  stdout: Readable;
  /** Absent with a terminal: the pty merges both streams into stdout. */
  stderr?: Readable;
}

export interface ExitStatus {
  exitCode: number;
  exitedAt: Date;
}

export interface TaskOptions {
  id: string;
  spec: RuntimeSpec;
  rootfs: Mount[];
  terminal: boolean;
  stdin: boolean;
}

export type TaskStatus = 'created' | 'running' | 'paused' | 'stopped' | 'unknown';

/** Something that runs, exits once, and can be signalled: a container's init or an exec. */
export interface RuntimeProcess {
  readonly id: string;
  readonly pid: number;
  readonly io: ProcessIO;
  start(): Promise<void>;
  /** Resolves once the process exits; every call returns the same result. */
  wait(): Promise<ExitStatus>;
  kill(signal: number): Promise<void>;
  resize(width: number, height: number): Promise<void>;
  /** Delivers EOF to the process's stdin. */
  closeStdin(): Promise<void>;
}

export interface ExecOptions {
  execId: string;
  process: SpecProcess;
  terminal: boolean;
  stdin: boolean;
}

export interface Task extends RuntimeProcess {
  status(): Promise<TaskStatus>;
  /** Signals every process of the container (used after the init has exited). */
  killAll(signal: number): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  pids(): Promise<number[]>;
  /** Changes the cgroup limits of the running container (`docker update`). */
  update(resources: SpecResources): Promise<void>;
  exec(opts: ExecOptions): Promise<RuntimeProcess & { delete(): Promise<void> }>;
  /** After exit: removes the container from the runtime and ends the shim (the rootfs is the caller's to unmount). */
  delete(): Promise<void>;
}

export type RestoreResult =
  | { state: 'alive'; task: Task }
  /** The task's shim is gone or the task exited while nobody watched; it was cleaned up. */
  | { state: 'gone'; exit: ExitStatus };

export interface RuntimeEvents {
  /** The kernel OOM-killed a process of container `id`. */
  onOom?(id: string): void;
}

/**
 * Runtime events for a listener built after the runtime (the runner needs
 * the runtime, the runtime reports to the runner): subscribe later, no
 * forward reference.
 */
export class RuntimeEventRelay implements RuntimeEvents {
  private readonly oomListeners: ((id: string) => void)[] = [];

  onOom(id: string): void {
    for (const l of this.oomListeners) l(id);
  }

  listenOom(listener: (id: string) => void): void {
    this.oomListeners.push(listener);
  }
}

export interface Runtime {
  /**
   * Optional head start: begins the per-container work that does not need
   * the spec (e.g. starting the shim) while the caller prepares the rootfs.
   * `create` picks it up; `discard` drops it when no create follows.
   * `group` names a task whose shim this one shares (a CRI pod's sandbox),
   * as containerd runs one shim per pod.
   */
  prepare?(id: string, group?: string): void;
  discard?(id: string): Promise<void>;
  create(opts: TaskOptions): Promise<Task>;
  /** Re-attaches to a task that outlived a daemon restart. */
  restore(id: string): Promise<RestoreResult>;
  /** Ids of every task the runtime holds state for. */
  list(): Promise<string[]>;
  close(): Promise<void>;
}

/** A process could not be started (`runc create/exec` failed): message as the runtime gave it. */
export class RuntimeStartError extends Error {}
