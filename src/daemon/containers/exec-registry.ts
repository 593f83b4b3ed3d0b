/** Exec instances, in memory only (Docker keeps them until their container stops). */
import type { ExecCreateRequest, ExecInspect } from '../../api/types/index.js';
import { NotFound } from '../../errdefs/index.js';
import type { RuntimeProcess } from '../runtime/runtime.js';

export interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecCreateRequest & { Cmd: string[] };
  running: boolean;
  exitCode: number | null;
  pid: number;
  /** Set once started (an exec runs at most once). */
  started: boolean;
  process?: RuntimeProcess & { delete(): Promise<void> };
}

/** Per container, at most this many finished execs are kept for inspect. */
const KEEP_FINISHED = 64;

export class ExecRegistry {
  private readonly byId = new Map<string, ExecRecord>();

  add(rec: ExecRecord): void {
    this.byId.set(rec.id, rec);
    const finished = this.ofContainer(rec.containerId).filter((e) => e.started && !e.running);
    for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.byId.delete(old.id);
  }

  get(id: string): ExecRecord {
    const rec = this.byId.get(id);
    if (!rec) throw new NotFound('exec.not_found', `No such exec instance: ${id}`);
    return rec;
  }

  ofContainer(containerId: string): ExecRecord[] {
    return [...this.byId.values()].filter((e) => e.containerId === containerId);
  }

  /** Forgets one exec (a healthcheck probe once it has ended). */
  remove(id: string): void {
    this.byId.delete(id);
  }

  /** When a container stops or goes away its execs go too. */
  dropContainer(containerId: string): void {
    for (const e of this.ofContainer(containerId)) this.byId.delete(e.id);
  }
}

export function execInspectView(e: ExecRecord): ExecInspect {
  const [entrypoint = '', ...args] = e.config.Cmd;
  return {
    ID: e.id,
    Running: e.running,
    ExitCode: e.exitCode,
    ProcessConfig: { tty: !!e.config.Tty, entrypoint, arguments: args, privileged: !!e.config.Privileged, ...(e.config.User ? { user: e.config.User } : {}) },
    OpenStdin: !!e.config.AttachStdin,
    OpenStderr: !!e.config.AttachStderr,
    OpenStdout: !!e.config.AttachStdout,
    CanRemove: false,
    ContainerID: e.containerId,
    DetachKeys: e.config.DetachKeys ?? '',
    Pid: e.pid,
  };
}
