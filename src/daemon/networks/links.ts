/** Bridge devices through ip(8): the one place berth creates or deletes host links. */
import { readFile } from 'node:fs/promises';
import { ExecError, run } from '../../lib/exec.js';

export async function linkExists(name: string): Promise<boolean> {
  return readFile(`/sys/class/net/${name}/ifindex`).then(() => true, () => false);
}

/** Creates the bridge (if missing) with its gateway address, and sets it up. */
export async function ensureBridge(name: string, gatewayCidr: string, mtu = 1500): Promise<void> {
  if (!(await linkExists(name))) {
    await run('ip', ['link', 'add', 'name', name, 'mtu', String(mtu), 'type', 'bridge']);
  }
  try {
    await run('ip', ['addr', 'add', gatewayCidr, 'dev', name]);
  } catch (err) {
    if (!(err instanceof ExecError && /File exists|Address already assigned/i.test(err.stderr))) throw err;
  }
  await run('ip', ['link', 'set', name, 'up']);
}

export async function deleteLink(name: string): Promise<void> {
  if (!(await linkExists(name))) return;
  await run('ip', ['link', 'del', name]);
}

/** Docker's rule for bridge names: 1–15 characters, no slashes or spaces. */
export function validBridgeName(name: string): boolean {
  return /^[A-Za-z0-9_.-]{1,15}$/.test(name);
}
