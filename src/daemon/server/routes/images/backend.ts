import type { Filters } from '../../../../api/filters.js';
import type { Readable } from 'node:stream';
import type {
  ImageDeleteResponseItem, ImageHistoryItem, ImageInspect, ImagesPruneResponse, ImageSummary, JSONMessage,
} from '../../../../api/types/index.js';
import type { TarWriter } from '../../../../lib/tar/index.js';
import type { Digest } from '../../../../oci/digest.js';

/** `docker import` as the route reads it. */
export interface ImportRequest {
  /** `repo[:tag]`, as the CLI sends it in `repo`; empty for an untagged image. */
  repo?: string;
  tag?: string;
  /** Dockerfile instructions applied to the config (`--change`). */
  changes?: string[];
  message?: string;
}

/** An image `docker load` added, and the names it tagged. */
export interface LoadedImage {
  id: Digest;
  tags: string[];
}

/** What the image routes call; implemented by ImageService. */
export interface ImagesBackend {
  list(opts: { all: boolean; filters: Filters; apiAtLeast144: boolean }): ImageSummary[];
  inspect(ref: string, apiAtLeast145: boolean): Promise<ImageInspect>;
  history(ref: string): Promise<ImageHistoryItem[]>;
  import(body: Readable, opts: ImportRequest): Promise<Digest>;
  load(body: Readable, quiet: boolean, progress: (m: JSONMessage) => void): Promise<LoadedImage[]>;
  /** Checks the names, then returns what streams the archive. */
  save(names: string[]): Promise<(tar: TarWriter) => Promise<void>>;
  tag(ref: string, repo: string, tag: string | undefined): Promise<void>;
  remove(ref: string, opts: { force: boolean; noprune: boolean }): Promise<ImageDeleteResponseItem[]>;
  prune(filters: Filters): Promise<ImagesPruneResponse>;
}
