/**
 * The daemon's registry side (image pull/push/login, plugin pull/push, and
 * the HTTP/TLS registry client under both) loads on its first request:
 * many daemons never pull, and loading it at boot is idle memory (issue 18).
 * The adapters answer the route backends' interfaces and import on use.
 */
import type { DistributionService } from './distribution/service.js';
import type { Registries } from './distribution/registries.js';
import type { PluginDistribution } from './plugins/managed/plugin-distribution.js';
import type { DistributionBackend } from './server/routes/distribution/backend.js';
import type { PluginRegistryBackend } from './server/routes/plugins/backend.js';
import { localPluginName } from './plugins/managed/plugin-names.js';

type DistributionDeps = Omit<ConstructorParameters<typeof DistributionService>[0], 'registries'>;
type PluginDistributionDeps = Omit<ConstructorParameters<typeof PluginDistribution>[0], 'registries'>;

/** Runs `load` once, on first use; a failed load is tried again next time. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= load().catch((err: unknown) => {
    p = undefined;
    throw err;
  }));
}

export class LazyRegistry {
  private readonly registries: () => Promise<Registries>;

  constructor(config: ConstructorParameters<typeof Registries>[0]) {
    this.registries = once(async () => new (await import('./distribution/registries.js')).Registries(config));
  }

  distribution(deps: DistributionDeps): DistributionBackend {
    const get = once(async () => new (await import('./distribution/service.js')).DistributionService({ ...deps, registries: await this.registries() }));
    return {
      pull: async (...a) => (await get()).pull(...a),
      push: async (...a) => (await get()).push(...a),
      login: async (...a) => (await get()).login(...a),
      inspect: async (...a) => (await get()).inspect(...a),
    };
  }

  plugins(deps: PluginDistributionDeps): PluginRegistryBackend {
    const get = once(async () => new (await import('./plugins/managed/plugin-distribution.js')).PluginDistribution({ ...deps, registries: await this.registries() }));
    return {
      localName: localPluginName,
      privileges: async (...a) => (await get()).privileges(...a),
      pull: async (...a) => (await get()).pull(...a),
      push: async (...a) => (await get()).push(...a),
      upgrade: async (...a) => (await get()).upgrade(...a),
    };
  }
}
