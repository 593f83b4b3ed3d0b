/**
 * Resolves a container's `User` (`name|uid[:group|gid]`) against the
 * container's own /etc/passwd and /etc/group, as runc's libcontainer/user
 * does for Docker. Pure: the caller reads the files (scoped to the rootfs).
 */
import { InvalidParameter } from '../../errdefs/index.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

function lines(text: string | undefined): string[][] {
  return (text ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

export function parsePasswd(text: string | undefined): PasswdEntry[] {
  return lines(text).filter((f) => f.length >= 4).map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' }));
}

export function parseGroup(text: string | undefined): GroupEntry[] {
  return lines(text).filter((f) => f.length >= 3).map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

const isNumeric = (s: string) => /^[0-9]+$/.test(s);

export function resolveUser(spec: string, passwdText?: string, groupText?: string, groupAdd: string[] = []): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':', 2) as [string, string | undefined];
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  let uid = 0;
  let gid = 0;
  let home = '/';
  let name = '';
  if (userPart === '') {
    const root = passwd.find((p) => p.uid === 0);
    if (root) ({ name, gid, home } = root);
  } else {
    const match = passwd.find((p) => (isNumeric(userPart) ? p.uid === Number(userPart) : p.name === userPart));
    if (match) {
      ({ uid, gid, home, name } = match);
    } else if (isNumeric(userPart)) {
      uid = Number(userPart);
    } else {
      throw new InvalidParameter('container.unknown_user', `unable to find user ${userPart}: no matching entries in passwd file`);
    }
  }
  const findGroup = (g: string): number => {
    const hit = groups.find((e) => (isNumeric(g) ? e.gid === Number(g) : e.name === g));
    if (hit) return hit.gid;
    if (isNumeric(g)) return Number(g);
    throw new InvalidParameter('container.unknown_group', `unable to find group ${g}: no matching entries in group file`);
  };
  let sgids: number[] = [];
  if (groupPart !== undefined && groupPart !== '') {
    gid = findGroup(groupPart);
  } else if (name) {
    sgids = groups.filter((g) => g.members.includes(name)).map((g) => g.gid);
  }
  const additional = [gid, ...sgids, ...groupAdd.map(findGroup)];
  return { uid, gid, additionalGids: [...new Set(additional)], home };
}
