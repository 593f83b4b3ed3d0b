import type { Readable } from 'node:stream';
import type { BuildRequest, JSONMessage } from '../../../../api/types/index.js';


/** What the build routes call. */
export interface BuildBackend {
  /** With `exportFiles` (`-o`), the target's files are handed to it as a tar instead of tagging an image; `signal` aborts when the client went away. */
  build(context: Readable, o: BuildRequest, emit: (m: JSONMessage) => void, exportFiles?: (tar: Readable) => Promise<void>, signal?: AbortSignal): Promise<string>;
  /** Of these context file digests (`sha256:<hex>`), the ones the context store lacks; InvalidParameter for a malformed one. */
  missingContent(digests: string[] | undefined): Promise<string[]>;
  /** `until`: only what was last used before it (ms); `keepStorage`: least recently used first until the rest fits. */
  prune(o: { until?: number; keepStorage?: number }): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>;
}
