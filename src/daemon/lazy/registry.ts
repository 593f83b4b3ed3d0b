/**
 * The daemon's registry side (image pull/push/login, plugin pull/push, and
 * the HTTP/TLS registry client under both) loads on its first request:
 * many daemons never pull, and loading it at boot is idle memory (issue 18).
 * The adapters answer the route backends' interfaces and import on use.
 */
import type { DistributionService } from '../distribution/service.js';
import type { Registries } from '../distribution/registries.js';
import type { PluginDistribution } from '../plugins/managed/plugin-distribution.js';
import type { DistributionBackend } from '../server/routes/distribution/backend.js';
import type { PluginRegistryBackend } from '../server/routes/plugins/backend.js';
import { localPluginName } from '../plugins/managed/plugin-names.js';
import { noteLoaded, once } from './once.js';

type DistributionDeps = Omit<ConstructorParameters<typeof DistributionService>[0], 'registries'>;
type PluginDistributionDeps = Omit<ConstructorParameters<typeof PluginDistribution>[0], 'registries'>;

export class LazyRegistry {
  private readonly registries: () => Promise<Registries>;

  constructor(config: ConstructorParameters<typeof Registries>[0]) {
    this.registries = once(async () => {
      const { Registries } = await import('../distribution/registries.js');
      noteLoaded('registry');
      return new Registries(config);
    });
  }

  distribution(deps: DistributionDeps): DistributionBackend {
    const get = once(async () => new (await import('../distribution/service.js')).DistributionService({ ...deps, registries: await this.registries() }));
    return {
      pull: async (...a) => (await get()).pull(...a),
      push: async (...a) => (await get()).push(...a),
      login: async (...a) => (await get()).login(...a),
      inspect: async (...a) => (await get()).inspect(...a),
    };
  }

  /** `deps` are asked for on the first plugin pull, push or upgrade (the managed plugins load lazily too). */
  plugins(deps: () => Promise<PluginDistributionDeps>): PluginRegistryBackend {
    const get = once(async () => new (await import('../plugins/managed/plugin-distribution.js')).PluginDistribution({ ...(await deps()), registries: await this.registries() }));
    return {
      localName: localPluginName,
      privileges: async (...a) => (await get()).privileges(...a),
      pull: async (...a) => (await get()).pull(...a),
      push: async (...a) => (await get()).push(...a),
      upgrade: async (...a) => (await get()).upgrade(...a),
    };
  }
}
