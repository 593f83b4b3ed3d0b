/** Start-up check of what networks need: CNI plugins, iptables, iproute2, unshare. */
import { access, constants } from 'node:fs/promises';
import { SystemError } from '../../errdefs/index.js';
import { run } from '../../lib/exec.js';
import { CNI_PATH } from './cni.js';

export async function networkPreflight(pluginDir = CNI_PATH): Promise<void> {
  for (const p of ['bridge', 'host-local', 'portmap', 'loopback']) {
    const ok = await access(`${pluginDir}/${p}`, constants.X_OK).then(() => true, () => false);
    if (!ok) throw new SystemError('daemon.missing_tool', `the CNI plugin ${p} was not found in ${pluginDir}: install the Debian package "containernetworking-plugins"`);
  }
  const tools: [string, string[], string][] = [
    ['iptables', ['--version'], 'iptables'], ['iptables-restore', ['--version'], 'iptables'], ['ip', ['-V'], 'iproute2'], ['unshare', ['--version'], 'util-linux'],
  ];
  for (const [bin, args, pkg] of tools) {
    await run(bin, args).catch(() => {
      throw new SystemError('daemon.missing_tool', `${bin} was not found: install the Debian package "${pkg}" (apt-get install ${pkg})`);
    });
  }
}
