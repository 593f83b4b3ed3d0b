/**
 * `RUN --mount=type=…,key=value,…` parsed as BuildKit's
 * instructions/commands_runmount.go takes it: CSV fields, `type` bind by
 * default, `target`/`dst`/`destination`, `source`/`src`, boolean keys that
 * may stand alone (`ro`, `rw`, `required`). Pure: the plan, not the mounts.
 */
import { posix } from 'node:path';
import { InvalidParameter, NotImplemented } from '../../errdefs/index.js';

export type RunMount =
  | { type: 'bind'; target: string; source: string; from?: string; rw: boolean }
  | { type: 'cache'; target: string; id: string; sharing: 'shared' | 'private' | 'locked'; from?: string; source: string; mode: number; uid: number; gid: number; ro: boolean }
  | { type: 'tmpfs'; target: string; size?: number }
  | { type: 'secret'; id: string; target?: string; env?: string; required: boolean; mode: number; uid: number; gid: number };

const BOOL_KEYS = new Set(['ro', 'readonly', 'rw', 'readwrite', 'required']);

export function parseRunMount(spec: string): RunMount {
  const kv = new Map<string, string>();
  for (const field of splitCsv(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    if (eq < 0 && !BOOL_KEYS.has(key)) throw new InvalidParameter('build.bad_mount', `invalid field '${field}' must be a key=value pair`);
    kv.set(key, eq < 0 ? 'true' : field.slice(eq + 1));
  }
  const type = kv.get('type') ?? 'bind';
  const target = kv.get('target') ?? kv.get('dst') ?? kv.get('destination');
  const source = kv.get('source') ?? kv.get('src') ?? '';
  const bool = (k: string): boolean => {
    const v = kv.get(k);
    if (v === undefined) return false;
    if (/^(true|1)$/i.test(v)) return true;
    if (/^(false|0)$/i.test(v)) return false;
    throw new InvalidParameter('build.bad_mount', `invalid value for ${k}: ${v}`);
  };
  const num = (k: string, dflt: number, base = 10): number => {
    const v = kv.get(k);
    if (v === undefined) return dflt;
    const n = parseInt(v, base);
    if (!/^\d+$/.test(v) || Number.isNaN(n)) throw new InvalidParameter('build.bad_mount', `invalid value for ${k}: ${v}`);
    return n;
  };
  const needTarget = (): string => {
    if (!target) throw new InvalidParameter('build.bad_mount', `mount type ${type} requires a target`);
    return posix.resolve('/', target);
  };
  const known = (keys: string[]) => {
    for (const k of kv.keys()) if (!['type', ...keys].includes(k)) throw new InvalidParameter('build.bad_mount', `unexpected key '${k}' in '${spec}'`);
  };
  switch (type) {
    case 'bind':
      known(['target', 'dst', 'destination', 'source', 'src', 'from', 'rw', 'readwrite', 'ro', 'readonly']);
      return { type, target: needTarget(), source, rw: bool('rw') || bool('readwrite'), ...(kv.get('from') ? { from: kv.get('from')! } : {}) };
    case 'cache': {
      known(['target', 'dst', 'destination', 'source', 'src', 'from', 'id', 'sharing', 'mode', 'uid', 'gid', 'ro', 'readonly', 'rw', 'readwrite']);
      const t = needTarget();
      const sharing = kv.get('sharing') ?? 'shared';
      if (sharing !== 'shared' && sharing !== 'private' && sharing !== 'locked') throw new InvalidParameter('build.bad_mount', `unsupported sharing value "${sharing}"`);
      return {
        type, target: t, id: kv.get('id') || t, sharing, source, mode: num('mode', 0o755, 8), uid: num('uid', 0), gid: num('gid', 0),
        ro: bool('ro') || bool('readonly'), ...(kv.get('from') ? { from: kv.get('from')! } : {}),
      };
    }
    case 'tmpfs': {
      known(['target', 'dst', 'destination', 'size']);
      const size = kv.get('size');
      return { type, target: needTarget(), ...(size !== undefined ? { size: parseSize(size) } : {}) };
    }
    case 'secret': {
      known(['target', 'dst', 'destination', 'id', 'env', 'required', 'mode', 'uid', 'gid']);
      // BuildKit: the id defaults to the target's base name, the target to /run/secrets/<id>
      const id = kv.get('id') || (target ? posix.basename(target) : '');
      if (!id) throw new InvalidParameter('build.bad_mount', 'secret mount requires an id or a target');
      const env = kv.get('env');
      const file = target ? posix.resolve('/', target) : env ? undefined : `/run/secrets/${id}`;
      return { type, id, required: bool('required'), mode: num('mode', 0o400, 8), uid: num('uid', 0), gid: num('gid', 0), ...(file ? { target: file } : {}), ...(env ? { env } : {}) };
    }
    case 'ssh':
      throw new NotImplemented('build.mount_ssh', 'RUN --mount=type=ssh is not supported by berth: forwarding an SSH agent needs a BuildKit session');
    default:
      throw new InvalidParameter('build.bad_mount', `unsupported mount type "${type}"`);
  }
}

/** A mount as the step's cache key sees it (secrets by id: their value is keyed apart, hashed). */
export function mountKey(m: RunMount): string {
  return JSON.stringify(m);
}

function splitCsv(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = false;
  for (const c of s) {
    if (c === '"') quote = !quote;
    else if (c === ',' && !quote) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.filter((f) => f !== '');
}

function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(v.trim());
  if (!m) throw new InvalidParameter('build.bad_mount', `invalid value for size: ${v}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * mult);
}

/** `RUN --network=`: BuildKit's three modes. */
export function parseRunNetwork(v: string | undefined): 'default' | 'none' | 'host' {
  if (v === undefined || v === 'default' || v === 'none' || v === 'host') return v ?? 'default';
  throw new InvalidParameter('build.bad_network', `unsupported network mode "${v}"`);
}
