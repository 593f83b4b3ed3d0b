import type { Readable } from 'node:stream';
import type { JSONMessage } from '../../../../api/types/index.js';

/** `POST /build` as the route reads it. */
export interface BuildRequest {
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string | null>;
  labels: Record<string, string>;
  noCache: boolean;
  /** Remove intermediate containers after a successful step / always. */
  rm: boolean;
  forceRm: boolean;
  pull: boolean;
  quiet: boolean;
  target?: string;
  networkMode?: string;
}

/** What the build routes call. */
export interface BuildBackend {
  build(context: Readable, o: BuildRequest, emit: (m: JSONMessage) => void): Promise<string>;
  prune(): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>;
}
