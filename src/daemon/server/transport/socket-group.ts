/**
 * The group that owns berthd's unix sockets. Membership in it is what lets a
 * user talk to the daemon (and so be root-equivalent): dockerd's `-G` rule.
 *
 * - `--group NAME` (or a numeric gid): that group; created as a system group
 *   when it does not exist yet, because the user asked for it by name.
 * - no `--group`: `berth` if it exists, else `docker` if it exists (Debian's
 *   docker.io creates it, so docker users keep their access), else root's group.
 *   berthd never creates a group the user did not name.
 */
import { run, ExecError } from '../../../lib/exec.js';
import { InvalidParameter } from '../../../errdefs/index.js';
import type { Logger } from '../../../lib/logger.js';

export const AUTO_GROUPS = ['berth', 'docker'];

/** `getent group` prints `name:password:gid:members`. */
export function parseGroupLine(line: string): { name: string; gid: number } | undefined {
  const [name, , gid] = line.trim().split(':');
  if (!name || gid === undefined || !/^\d+$/.test(gid)) return undefined;
  return { name, gid: Number(gid) };
}

async function lookupGroup(name: string): Promise<number | undefined> {
  try {
    const { stdout } = await run('getent', ['group', name]);
    return parseGroupLine(stdout.split('\n')[0] ?? '')?.gid;
  } catch (err) {
    if (err instanceof ExecError && err.exitCode === 2) return undefined; // no such group
    throw err;
  }
}

export interface SocketGroup {
  gid: number;
  name: string;
}

export async function resolveSocketGroup(wanted: string, log: Logger): Promise<SocketGroup> {
  if (/^\d+$/.test(wanted)) return { gid: Number(wanted), name: wanted };
  if (wanted) {
    let gid = await lookupGroup(wanted);
    if (gid === undefined) {
      if (!/^[a-z_][a-z0-9_-]*\$?$/i.test(wanted) || wanted.length > 32) {
        throw new InvalidParameter('daemon.invalid_group', `invalid group name for the API socket: ${wanted}`);
      }
      await run('groupadd', ['--system', wanted]);
      gid = await lookupGroup(wanted);
      if (gid === undefined) throw new InvalidParameter('daemon.invalid_group', `group ${wanted} could not be created`);
      log.info('created the API socket group', { group: wanted, gid });
    }
    return { gid, name: wanted };
  }
  for (const name of AUTO_GROUPS) {
    const gid = await lookupGroup(name);
    if (gid !== undefined) return { gid, name };
  }
  return { gid: process.getgid?.() ?? 0, name: 'root' };
}
