/**
 * Was a container's process OOM-killed? The shim publishes `/tasks/oom`, but
 * on cgroup v1 that event can reach the daemon after the exit it caused; the
 * kernel's own counter in the container's memory cgroup settles it while the
 * cgroup still exists (before the task is deleted).
 *
 *   v1: /sys/fs/cgroup/memory/<cgroupsPath>/memory.oom_control   "oom_kill 1"
 *   v2: /sys/fs/cgroup/<cgroupsPath>/memory.events                "oom_kill 1"
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export function oomCounterFile(cgroupVersion: 1 | 2, cgroupsPath: string, mountRoot = '/sys/fs/cgroup'): string {
  return cgroupVersion === 2 ? join(mountRoot, cgroupsPath, 'memory.events') : join(mountRoot, 'memory', cgroupsPath, 'memory.oom_control');
}

/** The `oom_kill` count of memory.oom_control / memory.events text (0 if absent). */
export function parseOomKills(text: string): number {
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** True when the kernel OOM-killed a process of this cgroup; false when unknown (cgroup gone). */
export async function oomKilledInCgroup(cgroupVersion: 1 | 2, cgroupsPath: string): Promise<boolean> {
  try {
    return parseOomKills(await readFile(oomCounterFile(cgroupVersion, cgroupsPath), 'utf8')) > 0;
  } catch {
    return false;
  }
}
