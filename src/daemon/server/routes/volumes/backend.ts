import type { Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse } from '../../../../api/types/index.js';

/** What the volume routes call; implemented by VolumeService. */
export interface VolumesBackend {
  create(req: VolumeCreateRequest): Promise<Volume>;
  list(filters: Map<string, string[]>): VolumeListResponse;
  inspect(name: string): Volume;
  remove(name: string, force: boolean): Promise<void>;
  prune(filters: Map<string, string[]>, allByDefault: boolean): Promise<VolumePruneResponse>;
}
