/**
 * userns-remap at daemon start: resolves the setting to a user and group,
 * creates Docker's `dockremap` user and its /etc/subuid and /etc/subgid
 * ranges for `default` (useradd/usermod, as dockerd does), and loads the
 * id maps. Also prepares the remapped data root `<data-root>/<uid>.<gid>`.
 */
import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SystemError } from '../../../errdefs/index.js';
import { run } from '../../../lib/exec.js';
import type { Logger } from '../../../lib/logger.js';
import {
  DEFAULT_RANGE_LENGTH, mappingsFor, nextFreeRangeStart, parseRemapSetting, parseSubIds, rootPair, type IdMap,
} from './userns.js';

export interface RemapFiles {
  passwd: string;
  group: string;
  subuid: string;
  subgid: string;
}

const SYSTEM_FILES: RemapFiles = { passwd: '/etc/passwd', group: '/etc/group', subuid: '/etc/subuid', subgid: '/etc/subgid' };

async function text(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

function entries(t: string): { name: string; id: number; gid?: number }[] {
  return t.split('\n').map((l) => l.split(':')).filter((f) => f.length >= 3 && f[0]).map((f) => ({ name: f[0]!, id: Number(f[2]), ...(f[3] !== undefined && /^\d+$/.test(f[3]) ? { gid: Number(f[3]) } : {}) }));
}

export interface RemapIdentity {
  user: string;
  group: string;
  map: IdMap;
}

/** Resolves `userns-remap` to its identity and id maps; creates dockremap for `default`. */
export async function loadRemap(setting: string, log: Logger, files: RemapFiles = SYSTEM_FILES): Promise<RemapIdentity> {
  const s = parseRemapSetting(setting);
  const fail = (msg: string) => new SystemError('daemon.userns_remap', msg);
  let users = entries(await text(files.passwd));
  const numeric = /^\d+$/.test(s.user);
  let u = numeric ? users.find((e) => e.id === Number(s.user)) : users.find((e) => e.name === s.user);
  if (!u && s.createDefault) {
    log.info('creating the user for userns-remap', { user: s.user });
    await run('useradd', ['-r', '-s', '/bin/false', s.user]).catch((err: Error) => {
      throw fail(`Error during "${s.user}" user creation: ${err.message}`);
    });
    users = entries(await text(files.passwd));
    u = users.find((e) => e.name === s.user);
  }
  if (!u) throw fail(numeric ? `Uid ${s.user} has no entry in /etc/passwd` : `Error during uid lookup for "${s.user}": no such user`);
  if (u.name === 'root') throw fail('User namespaces: root cannot be remapped with itself');
  if (s.createDefault) await ensureRanges(u.name, files, log);

  const groups = entries(await text(files.group));
  const groupSpec = s.group ?? (numeric ? s.user : u.name);
  const g = /^\d+$/.test(groupSpec) ? groups.find((e) => e.id === Number(groupSpec)) : groups.find((e) => e.name === groupSpec);
  if (!g) throw fail(`Error during gid lookup for "${groupSpec}": no such group`);

  const uids = mappingsFor(parseSubIds(await text(files.subuid)), u.name, u.id);
  const gids = mappingsFor(parseSubIds(await text(files.subgid)), g.name, g.id);
  if (!uids.length) throw fail(`Error creating ID mappings: no subuid ranges found for user "${u.name}"`);
  if (!gids.length) throw fail(`Error creating ID mappings: no subgid ranges found for group "${g.name}"`);
  return { user: u.name, group: g.name, map: { uids, gids } };
}

/** A system user gets no subordinate ranges from useradd: add one of each after the existing ones. */
async function ensureRanges(name: string, files: RemapFiles, log: Logger): Promise<void> {
  for (const [file, flag] of [[files.subuid, '-v'], [files.subgid, '-w']] as const) {
    const ranges = parseSubIds(await text(file));
    if (ranges.some((r) => r.owner === name)) continue;
    const start = nextFreeRangeStart(ranges);
    const range = `${start}-${start + DEFAULT_RANGE_LENGTH - 1}`;
    log.info('adding subordinate ids for userns-remap', { user: name, file, range });
    await run('usermod', [flag, range, name]).catch((err: Error) => {
      throw new SystemError('daemon.userns_remap', `unable to add subordinate id range to user "${name}": ${err.message}`);
    });
  }
}

/**
 * `<data-root>/<uid>.<gid>`, where every store of a remapped daemon lives
 * (images and layers are unpacked there with shifted owners). Each directory
 * above it must let the remapped root through, or no container could start.
 */
export async function prepareRemappedRoot(dataRoot: string, map: IdMap): Promise<string> {
  const { uid, gid } = rootPair(map);
  const root = join(dataRoot, `${uid}.${gid}`);
  await mkdir(root, { recursive: true, mode: 0o710 });
  await chown(root, 0, gid);
  await chmod(root, 0o710);
  for (let dir = dataRoot; dir !== '/'; dir = dirname(dir)) {
    const st = await stat(dir);
    const traversable = (st.mode & 0o001) !== 0 || (st.gid === gid && (st.mode & 0o010) !== 0) || (st.uid === uid && (st.mode & 0o100) !== 0);
    if (!traversable) {
      throw new SystemError('daemon.userns_remap', `a subdirectory in your graphroot path (${root}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories`);
    }
  }
  return root;
}
