/**
 * Managed plugins' part of the composition root, loaded by lazy/plugins.ts
 * only when this daemon has a managed plugin or a plugin request comes
 * (issue 18: idle memory): their own shim runtime and exec root (so the
 * container runner's restore never sees their tasks), the store, and the
 * manager handed to the plugin registry.
 */
import type { Logger } from '../lib/logger.js';
import type { EventBus } from './events/event-bus.js';
import type { PluginRegistry } from './plugins/registry.js';
import { ManagedPlugins } from './plugins/managed/manager.js';
import { PluginStore } from './plugins/managed/plugin-store.js';
import { withLatest } from './plugins/managed/config.js';
import { ShimRuntime } from './runtime/shim/shim-runtime.js';
import { pluginExecRoot, pluginStoreRoot } from './lazy/plugins.js';

export interface PluginsModeDeps {
  /** `<exec-root>/plugins` holds the plugins' tasks; `<store-root>/plugins` the plugins (plugin-store.ts). */
  execRoot: string;
  storeRoot: string;
  shimBinary: string;
  socketRoot: string;
  cgroupParent: string;
  cgroupVersion: 1 | 2;
  timeoutMs: number;
  maxBytes: number;
  log: Logger;
  events: EventBus;
  registry: PluginRegistry;
  /** The volume drivers in use, by driver name as the volume records spell it. */
  volumeDrivers: () => (string | undefined)[];
}

export interface PluginsMode {
  runtime: ShimRuntime;
  store: PluginStore;
  managed: ManagedPlugins;
}

/** Adopts or starts the enabled plugins; the registry finds them from then on. */
export async function startManagedPlugins(d: PluginsModeDeps): Promise<PluginsMode> {
  const runtime = new ShimRuntime({ execRoot: pluginExecRoot(d.execRoot), namespace: 'berth-plugins', shimBinary: d.shimBinary, log: d.log });
  await runtime.init();
  const store = new PluginStore(pluginStoreRoot(d.storeRoot), d.log);
  const managed = new ManagedPlugins({
    store, runtime, socketRoot: d.socketRoot, cgroupParent: d.cgroupParent, cgroupVersion: d.cgroupVersion, timeoutMs: d.timeoutMs, log: d.log, events: d.events,
    usersOf: (name) => d.volumeDrivers().filter((v) => v && withLatest(v) === name).length, maxBytes: d.maxBytes,
  });
  await managed.init();
  d.registry.attachManaged(managed);
  return { runtime, store, managed };
}
