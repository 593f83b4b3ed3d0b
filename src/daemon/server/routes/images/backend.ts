import type { Readable } from 'node:stream';
import type { ImageDeleteResponseItem, ImageInspect, ImageSummary } from '../../../../api/types/index.js';
import type { Digest } from '../../../../oci/digest.js';
import type { ImportOptions } from '../../../images/import.js';

/** What the image routes call; implemented by ImageService. */
export interface ImagesBackend {
  list(opts: { all: boolean; filters: Map<string, string[]>; apiAtLeast144: boolean }): ImageSummary[];
  inspect(ref: string, apiAtLeast145: boolean): Promise<ImageInspect>;
  import(body: Readable, opts: Omit<ImportOptions, 'engineVersion'>): Promise<Digest>;
  tag(ref: string, repo: string, tag: string | undefined): Promise<void>;
  remove(ref: string, opts: { force: boolean; noprune: boolean }): Promise<ImageDeleteResponseItem[]>;
}
