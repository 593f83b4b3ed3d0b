import type { Readable } from 'node:stream';
import type { JSONMessage } from '../../../../api/types/index.js';
import type { BuildOptions } from '../../../builder/builder.js';

/** What the build routes call. */
export interface BuildBackend {
  build(context: Readable, o: BuildOptions, emit: (m: JSONMessage) => void): Promise<string>;
  prune(): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>;
}
