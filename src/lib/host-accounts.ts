/**
 * Names of the host's uids and gids, as Go's archive/tar looks them up
 * (os/user: the host's /etc/passwd and /etc/group) for the uname and gname
 * of Docker's layer and `cp` tars. Read once per process, as Go caches them;
 * these are the host's own files, not a container's.
 */
import { readFile } from 'node:fs/promises';

export interface HostAccounts {
  user(uid: number): string;
  group(gid: number): string;
}

let loaded: Promise<HostAccounts> | undefined;

async function table(path: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const text = await readFile(path, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2]!)) continue;
    if (!out.has(Number(f[2]))) out.set(Number(f[2]), f[0]!);
  }
  return out;
}

export function hostAccounts(): Promise<HostAccounts> {
  loaded ??= Promise.all([table('/etc/passwd'), table('/etc/group')]).then(([users, groups]) => ({
    user: (uid) => users.get(uid) ?? '',
    group: (gid) => groups.get(gid) ?? '',
  }));
  return loaded;
}
