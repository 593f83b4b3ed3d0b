/** Requests as the routes read them from the query and body, handed to the daemon's services. */
import type { ContainerConfig } from './container.js';

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
  /** RUN --mount=type=secret values by id, base64 (berth's `X-Berth-Build-Secrets` header; never stored). */
  secrets?: Record<string, string>;
  /** `--build-context`: name -> `docker-image://ref`, or `local` (sent in the context tar under `.berth-build-contexts/<name>/`). */
  buildContexts?: Record<string, string>;
  /** `--cache-from` image references. */
  cacheFrom?: string[];
  /** berth's CLI sent an incremental context (`X-Berth-Context: incremental`): entries may refer to the context store. */
  incrementalContext?: boolean;
}

/** `POST /commit` as the route reads it. */
export interface CommitRequest {
  container: string;
  /** `repo` as the CLI sends it (fully qualified) and `tag`; neither for an untagged image. */
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** Dockerfile instructions applied to the config (`--change`). */
  changes?: string[];
  pause: boolean;
  /** Config fields from the request body, over the container's. */
  config?: Partial<ContainerConfig>;
}
