/** Facts about the host and the tools berthd drives, gathered once at start-up. */
import { readFile } from 'node:fs/promises';
import { cpus, hostname, release, totalmem } from 'node:os';
import { run } from '../../lib/exec.js';

export interface HostFacts {
  hostname: string;
  kernel: string;
  operatingSystem: string;
  osVersion: string;
  ncpu: number;
  memTotal: number;
  cgroupVersion: 1 | 2;
  runcVersion: string;
  shimVersion: string;
}

async function output(cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args)).stdout.trim();
  } catch {
    return '';
  }
}

export async function gatherHostFacts(shimBinary: string): Promise<HostFacts> {
  let operatingSystem = 'Linux';
  let osVersion = '';
  try {
    const osr = await readFile('/etc/os-release', 'utf8');
    operatingSystem = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osr)?.[1] ?? operatingSystem;
    osVersion = /^VERSION_ID="?([^"\n]*)"?/m.exec(osr)?.[1] ?? '';
  } catch {
    // not fatal: info shows "Linux"
  }
  const [runc, shim, cgroup] = await Promise.all([
    output('runc', ['--version']),
    output(shimBinary, ['-v']),
    readFile('/proc/self/mountinfo', 'utf8').catch(() => ''),
  ]);
  // a unified hierarchy mounted at /sys/fs/cgroup itself means cgroup v2
  const cgroupVersion = / \/sys\/fs\/cgroup [^ ]* [^-]*- cgroup2 /.test(cgroup) ? 2 : 1;
  return {
    hostname: hostname(),
    kernel: release(),
    operatingSystem,
    osVersion,
    ncpu: cpus().length,
    memTotal: totalmem(),
    cgroupVersion,
    runcVersion: /runc version (\S+)/.exec(runc)?.[1] ?? runc,
    shimVersion: /Version:\s*(\S+)/.exec(shim)?.[1] ?? shim,
  };
}
