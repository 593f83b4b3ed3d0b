import type { Readable } from 'node:stream';
import type { CommitRequest, FilesystemChange } from '../../../../api/types/index.js';
import type { Digest } from '../../../../oci/digest.js';


/** What the filesystem routes (changes, export, commit) call; implemented by ContainerFilesystem. */
export interface FilesystemBackend {
  changes(ref: string): Promise<FilesystemChange[]>;
  export(ref: string): Promise<Readable>;
  commit(o: CommitRequest): Promise<Digest>;
}
