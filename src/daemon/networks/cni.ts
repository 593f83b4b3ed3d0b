/**
 * The one executor of CNI plans: runs the plugins of a configuration list
 * (ADD in order, each given the previous result; DEL in reverse, given the
 * result of the ADD), as the CNI spec says a runtime does.
 */
import { SystemError } from '../../errdefs/index.js';
import { ExecError, run } from '../../lib/exec.js';
import { pluginInput, pluginsToRun, type NetworkConfList, type RuntimeConfig } from './cni-config.js';

export const CNI_PATH = '/usr/lib/cni';

export interface CniTarget {
  containerId: string;
  netns: string;
  ifName: string;
}

export interface CniResult {
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { interface?: number; address: string; gateway?: string }[];
  [k: string]: unknown;
}

export class CniError extends SystemError {}

async function invoke(command: 'ADD' | 'DEL' | 'CHECK', plugin: string, t: CniTarget, input: unknown, pluginDir: string): Promise<CniResult | undefined> {
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: t.containerId,
    CNI_NETNS: t.netns,
    CNI_IFNAME: t.ifName,
    CNI_PATH: pluginDir,
  };
  try {
    const { stdout } = await run(`${pluginDir}/${plugin}`, [], { env, input: JSON.stringify(input) });
    return stdout.trim() ? (JSON.parse(stdout) as CniResult) : undefined;
  } catch (err) {
    if (err instanceof ExecError) {
      // plugins report errors as JSON on stdout: {"code":…,"msg":…,"details":…}
      let msg = err.stderr.trim() || err.message;
      try {
        const e = JSON.parse(err.stdout) as { msg?: string; details?: string };
        if (e.msg) msg = e.details ? `${e.msg}: ${e.details}` : e.msg;
      } catch {
        // not JSON: keep stderr
      }
      throw new CniError('network.cni_failed', `plugin ${plugin} ${command}: ${msg}`);
    }
    throw err;
  }
}

export class CniRunner {
  constructor(private readonly pluginDir = CNI_PATH) {}

  /** ADD every plugin of the list; on failure, DELs what was added and throws. */
  async add(list: NetworkConfList, t: CniTarget, rc: RuntimeConfig): Promise<CniResult> {
    let prev: CniResult | undefined;
    const done: number[] = [];
    const plugins = pluginsToRun(list, rc);
    try {
      for (let i = 0; i < plugins.length; i++) {
        prev = (await invoke('ADD', plugins[i]!.type, t, pluginInput(list, plugins[i]!, rc, prev), this.pluginDir)) ?? prev;
        done.push(i);
      }
    } catch (err) {
      for (const i of done.reverse()) {
        await invoke('DEL', plugins[i]!.type, t, pluginInput(list, plugins[i]!, rc, prev), this.pluginDir).catch(() => {});
      }
      throw err;
    }
    return prev ?? {};
  }

  /** DEL in reverse order; keeps going past failures (a half-gone sandbox is normal) and reports the first. */
  async del(list: NetworkConfList, t: CniTarget, rc: RuntimeConfig, prevResult?: CniResult): Promise<void> {
    let first: Error | undefined;
    for (const p of [...pluginsToRun(list, rc)].reverse()) {
      try {
        await invoke('DEL', p.type, t, pluginInput(list, p, rc, prevResult), this.pluginDir);
      } catch (err) {
        first ??= err as Error;
      }
    }
    if (first) throw first;
  }
}
