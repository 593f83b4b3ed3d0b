/**
 * A managed plugin directory for `docker plugin create NAME DIR`: config.json
 * and a rootfs holding only test/support/plugins/volume-plugin.c, compiled
 * with `gcc -static` (the plugin sees nothing of the host).
 *
 *   const dir = managedVolumePluginDir();        // <tmp>/{config.json, rootfs/volplug}
 *   await d.docker(['plugin', 'create', 'tvp', dir.path]);
 *   dir.remove();
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './daemon.js';

export const VOLUME_PLUGIN_CONFIG = {
  Description: 'a test volume plugin',
  Documentation: 'https://example.invalid/berth',
  Interface: { Types: ['docker.volumedriver/1.0'], Socket: 'vol.sock' },
  Entrypoint: ['/volplug', 'vol.sock'],
  Network: { Type: 'none' },
  Env: [{ Name: 'DATA', Description: 'where volumes live', Settable: ['value'], Value: '/data' }, { Name: 'FIXED', Settable: [], Value: '1' }],
};

export function managedVolumePluginDir(config: object = VOLUME_PLUGIN_CONFIG): { path: string; remove(): void } {
  const path = mkdtempSync('/tmp/berth-e2e-managed-');
  mkdirSync(join(path, 'rootfs'));
  execFileSync('gcc', ['-static', '-O1', '-o', join(path, 'rootfs/volplug'), join(REPO, 'test/support/plugins/volume-plugin.c')]);
  writeFileSync(join(path, 'config.json'), JSON.stringify(config));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Pids of a plugin's processes: those in its cgroup (`<cgroup-parent>/plugin-<id>`). */
export function pluginPids(id: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/plugin-${id}\n`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('/volplug')) out.push(Number(pid));
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}
