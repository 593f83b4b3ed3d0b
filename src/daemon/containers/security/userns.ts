/**
 * User namespace remapping (`userns-remap`), the pure parts: the setting,
 * /etc/subuid and /etc/subgid ranges, id maps and translation between
 * container and host ids.
 *
 *   const map = idMapFromSubIds(subuidText, subgidText, 'dockremap', 'dockremap');
 *   // → { uids: [{ containerID: 0, hostID: 100000, size: 65536 }], gids: [...] }
 *   hostId(map.uids, 0) === 100000   // root in the container is uid 100000 on the host
 */
import { InvalidParameter } from '../../../errdefs/index.js';
import type { IdMapping } from '../../../lib/id-map.js';

export { hostId, containerId, rootPair, shiftOwner, unshiftOwner, OVERFLOW_ID, type IdMap, type IdMapping } from '../../../lib/id-map.js';

/** The user Docker creates for `userns-remap: default`. */
export const DEFAULT_REMAP_USER = 'dockremap';
export const DEFAULT_RANGE_START = 100000;
export const DEFAULT_RANGE_LENGTH = 65536;

export interface RemapSetting {
  /** A user name or numeric uid; `default` means dockremap, created when missing. */
  user: string;
  /** A group name or numeric gid; absent: the user's own group (or the uid as gid). */
  group?: string;
  createDefault: boolean;
}

/** `default`, `user`, `user:group`, `uid`, `uid:gid`. */
export function parseRemapSetting(v: string): RemapSetting {
  const parts = v.split(':');
  if (parts.length > 2 || !parts[0]) throw new InvalidParameter('daemon.userns_remap', `Invalid user/group specification in --userns-remap: "${v}"`);
  if (parts[0] === 'default') return { user: DEFAULT_REMAP_USER, createDefault: true, ...(parts[1] ? { group: parts[1] } : {}) };
  return { user: parts[0], createDefault: false, ...(parts[1] ? { group: parts[1] } : {}) };
}

export interface SubIdRange {
  owner: string;
  start: number;
  count: number;
}

/** Lines `name:start:count` of /etc/subuid or /etc/subgid; malformed lines are skipped. */
export function parseSubIds(text: string): SubIdRange[] {
  const out: SubIdRange[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length !== 3 || !f[0] || !/^\d+$/.test(f[1]!) || !/^\d+$/.test(f[2]!)) continue;
    out.push({ owner: f[0], start: Number(f[1]), count: Number(f[2]) });
  }
  return out;
}

/**
 * The mappings of the ranges owned by `name` (or its numeric id), in file
 * order: container ids run contiguously from 0 across the ranges.
 */
export function mappingsFor(ranges: SubIdRange[], name: string, id?: number): IdMapping[] {
  const out: IdMapping[] = [];
  let next = 0;
  for (const r of ranges) {
    if (r.owner !== name && (id === undefined || r.owner !== String(id))) continue;
    out.push({ containerID: next, hostID: r.start, size: r.count });
    next += r.count;
  }
  return out;
}

/** Where a new `count`-long range can start without overlapping any existing one (moby's findNextRangeStart). */
export function nextFreeRangeStart(ranges: SubIdRange[], count = DEFAULT_RANGE_LENGTH): number {
  let start = DEFAULT_RANGE_START;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    const end = start + count;
    const overlaps = (start >= r.start && start <= r.start + r.count) || (end <= r.start + r.count && end >= r.start);
    if (overlaps) start = r.start + r.count;
  }
  return start;
}

