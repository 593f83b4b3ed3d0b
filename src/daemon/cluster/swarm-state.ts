/**
 * What a node remembers of its swarm: <data-root>/swarm/state.json, written
 * last by init, join and a role change, removed first by leave (no file =
 * not in a swarm).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../lib/atomic-file.js';
import type { SwarmInfoView } from '../../api/types/index.js';

/** What this node remembers of its swarm, in <data-root>/swarm/state.json. */
export interface LocalSwarmState {
  nodeId: string;
  clusterId: string;
  role: 'manager' | 'worker';
  advertiseIp: string;
  listenAddr: string;
  /** The local member's client URL (managers); '' on a worker. */
  clientUrl: string;
  peerUrl: string;
  /** The etcd client URLs this node's store uses (a worker's: its managers'). */
  etcdEndpoints?: string[];
  /** The managers a worker joined through (`Info.Swarm.RemoteManagers`). */
  managers?: { nodeId: string; addr: string }[];
}

/** The state in `swarmDir`, or undefined if this node is in no swarm. */
export async function readSwarmState(swarmDir: string): Promise<LocalSwarmState | undefined> {
  try {
    return JSON.parse(await readFile(join(swarmDir, 'state.json'), 'utf8')) as LocalSwarmState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function writeSwarmState(swarmDir: string, state: LocalSwarmState): Promise<void> {
  return writeJsonAtomic(join(swarmDir, 'state.json'), state);
}

/** The `Swarm` block of `GET /info` on a node in no swarm (here so a daemon outside a swarm answers it without loading swarm mode). */
export function inactiveSwarmInfo(): SwarmInfoView {
  return { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null };
}
