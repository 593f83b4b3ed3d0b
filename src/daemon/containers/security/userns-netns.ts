/**
 * Network namespaces for userns-remap. A container whose root is remapped
 * lives in a user namespace; the network namespace the daemon prepares for
 * it (before start, so CNI can configure it) must belong to that user
 * namespace, or the container could not mount sysfs or set net.* sysctls,
 * and runc 1.1 could not `exec` into it (it joins the user namespace first).
 * So the daemon makes both together: a holder process unshares a user and a
 * network namespace, gets the id maps written from the host, and both are
 * kept alive as bind mounts of files; the container then joins the user
 * namespace by path (with the same maps) along with the network namespace.
 *
 *   <netns dir>/<id12>        the network namespace
 *   <netns dir>/<id12>.user   its user namespace
 */
import { spawn } from 'node:child_process';
import { readlink, writeFile } from 'node:fs/promises';
import { SystemError } from '../../../errdefs/index.js';
import { run } from '../../../lib/exec.js';
import type { IdMap, IdMapping } from '../../../lib/id-map.js';

/** The user namespace that owns a container's network namespace (by the naming above, or a process's own). */
export function userNamespaceFor(netnsPath: string): string {
  const proc = /^(\/proc\/\d+\/ns\/)net$/.exec(netnsPath);
  return proc ? `${proc[1]}user` : `${netnsPath}.user`;
}

function mapText(maps: IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** Makes a network namespace owned by a new user namespace with `map`; `netPath` and `userPath` must exist as files. */
export async function createUsernsNetns(netPath: string, userPath: string, map: IdMap): Promise<void> {
  const holder = spawn('unshare', ['--user', '--net', '--', 'sleep', '60'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => holder.once('exit', () => r()));
  holder.on('error', () => {});
  const pid = holder.pid;
  try {
    if (!pid) throw new Error('unshare did not start');
    const ours = await readlink('/proc/self/ns/user');
    const deadline = Date.now() + 5000;
    // unshare execs sleep once both namespaces exist: wait for it to be in them
    while ((await readlink(`/proc/${pid}/ns/user`).catch(() => ours)) === ours) {
      if (Date.now() > deadline) throw new Error('the namespaces were not created in time');
      await new Promise((r) => setTimeout(r, 5));
    }
    await writeFile(`/proc/${pid}/uid_map`, mapText(map.uids));
    await writeFile(`/proc/${pid}/gid_map`, mapText(map.gids));
    await run('mount', ['--bind', `/proc/${pid}/ns/net`, netPath]);
    await run('mount', ['--bind', `/proc/${pid}/ns/user`, userPath]);
  } catch (err) {
    throw new SystemError('daemon.userns_remap', `creating the user and network namespaces failed: ${(err as Error).message}`);
  } finally {
    holder.kill('SIGKILL');
    await exited;
  }
}
