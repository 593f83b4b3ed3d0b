/**
 * `--ipc container:<ref>` and `--pid container:<ref>`: the namespace files
 * of another running container's process, for the runtime spec to join.
 * (The network mode's `container:` is the networking sandbox's job.)
 *
 *   sharedNamespaces({ IpcMode: 'container:db' }, find) -> { ipc: '/proc/4242/ns/ipc' }
 */
import { Conflict } from '../../errdefs/index.js';
import type { ContainerRecord } from './record.js';

export interface SharedNamespacePaths {
  ipc?: string;
  pid?: string;
}

function joined(mode: string | undefined, kind: 'ipc' | 'pid', find: (ref: string) => ContainerRecord | undefined): string | undefined {
  if (!mode?.startsWith('container:')) return undefined;
  const ref = mode.slice('container:'.length);
  const other = find(ref);
  // moby's words (daemon/container_operations_unix.go)
  if (!other || !other.state.Running || !other.state.Pid) {
    throw new Conflict('container.join_not_running', `cannot join ${kind.toUpperCase()} of a non running container: ${other?.id ?? ref}`);
  }
  return `/proc/${other.state.Pid}/ns/${kind}`;
}

export function sharedNamespaces(hc: ContainerRecord['hostConfig'], find: (ref: string) => ContainerRecord | undefined): SharedNamespacePaths {
  const ipc = joined(hc.IpcMode, 'ipc', find);
  const pid = joined(hc.PidMode, 'pid', find);
  return { ...(ipc ? { ipc } : {}), ...(pid ? { pid } : {}) };
}
