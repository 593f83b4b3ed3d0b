import type { Filters } from '../../../../api/filters.js';
import type { Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse } from '../../../../api/types/index.js';

/** What the volume routes call; implemented by VolumeService. */
export interface VolumesBackend {
  create(req: VolumeCreateRequest): Promise<Volume>;
  list(filters: Filters): Promise<VolumeListResponse>;
  inspect(name: string): Promise<Volume>;
  remove(name: string, force: boolean): Promise<void>;
  prune(filters: Filters, allByDefault: boolean): Promise<VolumePruneResponse>;
}
