/** Engine API system objects (version, events). `/info` is built field by field in the daemon. */
export interface VersionComponent {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}

export interface VersionResponse {
  Platform: { Name: string };
  Components: VersionComponent[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  BuildTime: string;
  Experimental?: boolean;
}

export interface EventMessage {
  Type: 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin' | 'builder' | 'service' | 'node' | 'secret' | 'config';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local' | 'swarm';
  time: number;
  timeNano: number;
  /** Legacy duplicates for container and image events. */
  status?: string;
  id?: string;
  from?: string;
}

export interface ErrorResponse {
  message: string;
}

/** `GET /system/df`. BuildCache: step images and RUN cache mounts, as BuildKit's records (builder/build-cache.ts). */
export interface DiskUsage {
  LayersSize: number;
  Images: import('./image.js').ImageSummary[];
  Containers: import('./container.js').ContainerSummary[];
  Volumes: import('./volume.js').Volume[];
  BuildCache: BuildCacheRecord[];
  /** Bytes of the build cache not shared with images (the docker CLI's Reclaimable starts from it). */
  BuilderSize?: number;
}

/** Docker's types.BuildCache. */
export interface BuildCacheRecord {
  ID: string;
  Parents: string[] | null;
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string | null;
  UsageCount: number;
}
