/** Engine API volume objects (API 1.47, engine-api.md §4.5). */
export interface Volume {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  /** `global` for a plugin that says its volumes are cluster-wide. */
  Scope: 'local' | 'global';
  /** What a volume plugin reports about the volume (its Get answer), absent for local ones. */
  Status?: Record<string, unknown>;
  UsageData?: { Size: number; RefCount: number } | null;
}

export interface VolumeCreateRequest {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

export interface VolumeListResponse {
  Volumes: Volume[];
  Warnings: string[] | null;
}

export interface VolumePruneResponse {
  VolumesDeleted: string[] | null;
  SpaceReclaimed: number;
}
