import type { Filters } from '../../../../api/filters.js';
import type { ConfigSpec, ConfigView, SecretSpec, SecretView } from '../../../../api/types/index.js';

/** What the secret routes (and, with ConfigSpec/ConfigView, the config routes) need from the daemon. */
export interface SwarmFilesBackend<Spec, View> {
  list(filters: Filters): Promise<View[]>;
  inspect(ref: string): Promise<View>;
  /** Returns the new id. */
  create(spec: Spec): Promise<string>;
  update(ref: string, version: number, spec: Spec): Promise<void>;
  remove(ref: string): Promise<void>;
}

export type SecretsBackend = SwarmFilesBackend<SecretSpec, SecretView>;
export type ConfigsBackend = SwarmFilesBackend<ConfigSpec, ConfigView>;
