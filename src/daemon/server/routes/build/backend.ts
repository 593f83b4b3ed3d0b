import type { Readable } from 'node:stream';
import type { BuildRequest, JSONMessage } from '../../../../api/types/index.js';


/** What the build routes call. */
export interface BuildBackend {
  build(context: Readable, o: BuildRequest, emit: (m: JSONMessage) => void): Promise<string>;
  prune(): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>;
}
