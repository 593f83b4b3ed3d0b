/**
 * A pod's sysctls (LinuxPodSandboxConfig.sysctls): only namespaced ones, as
 * Docker's `--sysctl` takes them — the IPC namespace's (kernel.msg*,
 * kernel.sem, kernel.shm*, fs.mqueue.*) and the network namespace's (net.*),
 * and neither kind when the pod uses the node's namespace of that kind.
 * They are set on the sandbox; the pod's containers share its namespaces.
 */
import { InvalidParameter } from '../../errdefs/index.js';

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function podSysctls(sysctls: Record<string, string> | undefined, ns: { network?: string; ipc?: string } | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(sysctls ?? {})) {
    const ipc = IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.');
    const net = key.startsWith('net.');
    if (!ipc && !net) throw new InvalidParameter('cri.sysctl', `sysctl '${key}=${value}' is not allowed: not a namespaced sysctl`);
    if (net && ns?.network === 'NODE') throw new InvalidParameter('cri.sysctl', `sysctl '${key}=${value}' is not allowed in the host's network namespace`);
    if (ipc && ns?.ipc === 'NODE') throw new InvalidParameter('cri.sysctl', `sysctl '${key}=${value}' is not allowed in the host's IPC namespace`);
    out[key] = value;
  }
  return out;
}
