import type { Readable } from 'node:stream';
import type { ContainerConfig, FilesystemChange } from '../../../../api/types/index.js';
import type { Digest } from '../../../../oci/digest.js';

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

/** What the filesystem routes (changes, export, commit) call; implemented by ContainerFilesystem. */
export interface FilesystemBackend {
  changes(ref: string): Promise<FilesystemChange[]>;
  export(ref: string): Promise<Readable>;
  commit(o: CommitRequest): Promise<Digest>;
}
