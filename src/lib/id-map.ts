/**
 * Id maps of a user namespace (`containerID → hostID` ranges, as in the
 * runtime spec's uidMappings/gidMappings) and owner translation through them.
 *
 *   hostId([{ containerID: 0, hostID: 100000, size: 65536 }], 0) === 100000
 */
import { InvalidParameter } from '../errdefs/index.js';

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface IdMap {
  uids: IdMapping[];
  gids: IdMapping[];
}

/** The host id of container id `id`, or undefined if the map does not cover it. */
export function hostId(maps: readonly IdMapping[], id: number): number | undefined {
  for (const m of maps) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  return undefined;
}

/** The container id of host id `id`, or undefined if it is not mapped into the container. */
export function containerId(maps: readonly IdMapping[], id: number): number | undefined {
  for (const m of maps) if (id >= m.hostID && id < m.hostID + m.size) return m.containerID + (id - m.hostID);
  return undefined;
}

/** Host uid and gid of the container's root. */
export function rootPair(map: IdMap): { uid: number; gid: number } {
  const uid = hostId(map.uids, 0);
  const gid = hostId(map.gids, 0);
  if (uid === undefined || gid === undefined) throw new InvalidParameter('userns.unmapped_id', 'the remapping does not map root (container id 0)');
  return { uid, gid };
}

/**
 * Translates a file owner for storage under a remapped root; ids the map
 * does not cover are refused, as moby refuses them.
 */
export function shiftOwner(map: IdMap, uid: number, gid: number): { uid: number; gid: number } {
  const u = hostId(map.uids, uid);
  const g = hostId(map.gids, gid);
  if (u === undefined) throw new InvalidParameter('userns.unmapped_id', `Container ID ${uid} cannot be mapped to a host ID`);
  if (g === undefined) throw new InvalidParameter('userns.unmapped_id', `Container ID ${gid} cannot be mapped to a host ID`);
  return { uid: u, gid: g };
}

/** And back: the owner a container sees (an unmapped host id shows as nobody, 65534). */
export function unshiftOwner(map: IdMap, uid: number, gid: number): { uid: number; gid: number } {
  return { uid: containerId(map.uids, uid) ?? OVERFLOW_ID, gid: containerId(map.gids, gid) ?? OVERFLOW_ID };
}

export const OVERFLOW_ID = 65534;
