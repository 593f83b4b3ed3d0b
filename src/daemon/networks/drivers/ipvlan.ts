/**
 * The ipvlan driver: not implemented by berth. What a user is told depends
 * on the kernel, which is asked by trying: an ipvlan link on loopback is
 * refused by a kernel that has ipvlan (loopback is no valid master) and
 * reported as an unknown link kind by one that has not, so the probe never
 * leaves a link behind (one that somehow got made is deleted at once).
 */
import { randomBytes } from '../../../lib/lazy-crypto.js';
import { NotImplemented } from '../../../errdefs/index.js';
import { ExecError, run } from '../../../lib/exec.js';
import { deleteLink } from '../links.js';

export async function kernelHasIpvlan(): Promise<boolean> {
  const probe = `ipvp${randomBytes(4).toString('hex')}`;
  try {
    await run('ip', ['link', 'add', 'link', 'lo', 'name', probe, 'type', 'ipvlan', 'mode', 'l2']);
    await deleteLink(probe);
    return true;
  } catch (err) {
    return !(err instanceof ExecError && /Unknown device type/i.test(err.stderr));
  }
}

/** Why `-d ipvlan` is refused here, always thrown. */
export async function refuseIpvlan(): Promise<never> {
  if (!(await kernelHasIpvlan())) {
    throw new NotImplemented('network.kernel_unsupported',
      'ipvlan networks need the ipvlan kernel module, and this kernel has no ipvlan support (creating an ipvlan link failed: Unknown device type); a macvlan network (-d macvlan) puts containers on the parent\'s LAN the same way');
  }
  throw new NotImplemented('network.ipvlan', 'berth does not implement the ipvlan driver: use -d macvlan');
}
