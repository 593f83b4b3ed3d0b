import type { Readable } from 'node:stream';
import type { AuthConfig } from '../../../../api/registry-auth.js';
import type { PluginObject, PluginPrivilege } from '../../../../api/types/plugin.js';

/** What the plugin routes call; implemented by ManagedPlugins (and PluginDistribution for the registry ones). */
export interface PluginsBackend {
  /** Sync in ManagedPlugins; a promise while the managed plugins are still to load (lazy/plugins.ts). */
  list(filters: Map<string, string[]>): PluginObject[] | Promise<PluginObject[]>;
  inspect(ref: string): PluginObject | Promise<PluginObject>;
  create(name: string, tar: Readable): Promise<void>;
  enable(ref: string, timeoutS?: number): Promise<void>;
  disable(ref: string, force: boolean): Promise<void>;
  remove(ref: string, force: boolean): Promise<void>;
  set(ref: string, pairs: string[]): Promise<void>;
}

/** Plugins to and from registries. */
export interface PluginRegistryBackend {
  privileges(remote: string, auth: AuthConfig): Promise<PluginPrivilege[]>;
  localName(remote: string, name: string): string;
  pull(remote: string, name: string, granted: PluginPrivilege[], auth: AuthConfig, emit: (m: object) => void): Promise<void>;
  push(name: string, auth: AuthConfig, emit: (m: object) => void): Promise<void>;
  upgrade(name: string, remote: string, granted: PluginPrivilege[], auth: AuthConfig, emit: (m: object) => void): Promise<void>;
}
