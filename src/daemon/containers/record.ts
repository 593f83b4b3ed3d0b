/**
 * A container as berthd keeps it (containers/<id>/config.v2.json), and the
 * pure state helpers around it: Docker's state strings and transitions.
 */
import type { ContainerConfig, ContainerStateJSON, HostConfig, MountPoint, EndpointSettings, PortMap } from '../../api/types/index.js';
import type { Digest } from '../../oci/digest.js';
import { humanDuration } from '../../lib/units.js';

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface NetworkSettingsRecord {
  Networks: Record<string, EndpointSettings>;
  Ports: PortMap;
  SandboxKey: string;
}

export interface ContainerRecord {
  id: string;
  /** Without the leading `/`. */
  name: string;
  created: string;
  path: string;
  args: string[];
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** Image id (config digest) and the name the user gave. */
  image: Digest;
  state: ContainerStateJSON;
  restartCount: number;
  /** Set by an explicit stop/kill: restart policies leave it alone. */
  manuallyStopped: boolean;
  /** Chain id of the image's top layer (the container's lower dirs). */
  layer?: Digest;
  mounts: MountPoint[];
  networkSettings: NetworkSettingsRecord;
  /** Made by this node's swarm agent for a task (dockerd's Container.Managed): it may join non-attachable overlay networks. */
  managed?: boolean;
  /** Made through the CRI endpoint (never from the Engine API): kept out of `docker ps`; output goes to `logPath` in the CRI log format. */
  cri?: { logPath?: string };
}

export function initialState(): ContainerStateJSON {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}

export function runningState(prev: ContainerStateJSON, pid: number, at: Date): ContainerStateJSON {
  return {
    ...prev, Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: pid, ExitCode: 0, Error: '', StartedAt: at.toISOString(),
  };
}

export function exitedState(prev: ContainerStateJSON, exitCode: number, at: Date, oomKilled = false): ContainerStateJSON {
  return {
    ...prev, Status: 'exited', Running: false, Paused: false, Restarting: false, OOMKilled: oomKilled,
    Pid: 0, ExitCode: exitCode, FinishedAt: at.toISOString(),
  };
}

/** Exited, with a restart coming: Docker counts it as running for stop/rm (moby SetRestarting). */
export function restartingState(prev: ContainerStateJSON, exitCode: number, at: Date, oomKilled = false): ContainerStateJSON {
  return {
    ...prev, Status: 'restarting', Running: true, Paused: false, Restarting: true, OOMKilled: oomKilled,
    Pid: 0, ExitCode: exitCode, FinishedAt: at.toISOString(),
  };
}

/** Attributes of a container's events: its labels, image and name. */
export function eventAttributes(rec: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(rec.config.Labels ?? {}), image: rec.config.Image, name: rec.name, ...extra };
}

/** The `Status` column of `docker ps` (moby container/state.go String). */
export function statusString(s: ContainerStateJSON, now = Date.now()): string {
  const since = (t: string) => humanDuration(now - Date.parse(t));
  if (s.Running) {
    if (s.Paused) return `Up ${since(s.StartedAt)} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
    if (s.Health) return `Up ${since(s.StartedAt)} (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})`;
    return `Up ${since(s.StartedAt)}`;
  }
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Dead) return 'Dead';
  if (s.StartedAt === ZERO_TIME) return 'Created';
  if (s.FinishedAt === ZERO_TIME) return '';
  return `Exited (${s.ExitCode}) ${since(s.FinishedAt)} ago`;
}

/** Docker quotes Command in `ps` like a shell would need it. */
export function commandString(path: string, args: string[]): string {
  return [path, ...args].map((a) => (a === '' || /[\s"'\\$`]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a)).join(' ');
}
