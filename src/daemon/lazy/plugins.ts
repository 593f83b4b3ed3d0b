/**
 * Managed plugins (their runtime, store and manager) load when this daemon
 * has one, or on the first plugin request; until then the plugin registry
 * finds only legacy plugins, which is all there is (issue 18: idle memory).
 *
 *   boot(): anything in <data-root>/plugins or a plugin task in <exec-root>/plugins/tasks -> load now
 *   GET /plugins, POST /plugins/pull, ... -> load, then answer
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PluginObject } from '../../api/types/plugin.js';
import type { PluginsBackend } from '../server/routes/plugins/backend.js';
import type { PluginsMode, PluginsModeDeps } from '../wire-plugins.js';
import { deferred, noteLoaded, once } from './once.js';

export function pluginExecRoot(execRoot: string): string {
  return join(execRoot, 'plugins');
}

export function pluginStoreRoot(storeRoot: string): string {
  return join(storeRoot, 'plugins');
}

async function hasEntries(dir: string): Promise<boolean> {
  return readdir(dir).then((names) => names.length > 0, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return false;
    throw err;
  });
}

export class LazyPlugins {
  private mode: PluginsMode | undefined;
  /** The managed plugins, loaded on first use. */
  readonly load: () => Promise<PluginsMode>;

  constructor(private readonly d: PluginsModeDeps) {
    this.load = once(async () => {
      const wiring = await import('../wire-plugins.js');
      noteLoaded('plugins');
      this.mode = await wiring.startManagedPlugins(this.d);
      return this.mode;
    });
  }

  /** At daemon start: loads the managed plugins now if there are any (installed, or a task still running). */
  async boot(): Promise<void> {
    const there = await Promise.all([hasEntries(pluginStoreRoot(this.d.storeRoot)), hasEntries(join(pluginExecRoot(this.d.execRoot), 'tasks'))]);
    if (there.includes(true)) await this.load();
  }

  private managed = async () => (await this.load()).managed;

  readonly api: PluginsBackend = {
    ...deferred<Omit<PluginsBackend, 'list' | 'inspect'>>(this.managed, { create: true, enable: true, disable: true, remove: true, set: true }),
    list: async (filters: Map<string, string[]>): Promise<PluginObject[]> => (await this.managed()).list(filters),
    inspect: async (ref: string): Promise<PluginObject> => (await this.managed()).inspect(ref),
  };

  /** Daemon stop: plugins stop unless `keepRunning` (live-restore). */
  async shutdown(keepRunning: boolean): Promise<void> {
    if (!this.mode) return;
    await this.mode.managed.shutdown(keepRunning);
  }

  /** After everything that ran in it has stopped. */
  async closeRuntime(): Promise<void> {
    await this.mode?.runtime.close();
  }
}
