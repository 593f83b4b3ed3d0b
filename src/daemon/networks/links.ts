/** Bridge devices through ip(8): the one place berth creates or deletes host links. */
import { randomBytes } from '../../lib/lazy-crypto.js';
import { urandomBytes } from '../../lib/urandom.js';
import { readFile } from 'node:fs/promises';
import { ExecError, run } from '../../lib/exec.js';

export async function linkExists(name: string): Promise<boolean> {
  return readFile(`/sys/class/net/${name}/ifindex`).then(() => true, () => false);
}

/** /sys/class/net/<dev>/addr_assign_type of an address set by hand (NET_ADDR_SET). */
const ADDR_SET = '3';

/** A random unicast, locally administered MAC address (libnetwork's GenerateRandomMAC). */
export function randomMac(bytes: Buffer = randomBytes(6)): string {
  const b = Buffer.from(bytes.subarray(0, 6));
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * Creates the bridge (if missing) with its gateway address, and sets it up.
 * The bridge gets a MAC address of its own, as dockerd gives it: without
 * one the kernel lends it the lowest MAC of its ports, so it changes when
 * that container leaves, and the others' ARP entry for the gateway (their
 * DNS server and default route) goes stale for seconds.
 */
export async function ensureBridge(name: string, gatewayCidr: string, mtu = 1500): Promise<void> {
  if (!(await linkExists(name))) {
    await run('ip', ['link', 'add', 'name', name, 'mtu', String(mtu), 'address', randomMac(await urandomBytes(6)), 'type', 'bridge']);
  } else if ((await readFile(`/sys/class/net/${name}/addr_assign_type`, 'utf8').catch(() => ADDR_SET)).trim() !== ADDR_SET) {
    // a bridge from before berth set one
    await run('ip', ['link', 'set', 'dev', name, 'address', randomMac(await urandomBytes(6))]);
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
