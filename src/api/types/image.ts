/** Engine API image objects (API 1.47). */
import type { ContainerDefaults, Platform } from '../../oci/image.js';

export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  Containers: number;
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  Container?: string;
  ContainerConfig?: ContainerDefaults;
  DockerVersion: string;
  Author: string;
  Config: ContainerDefaults | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  VirtualSize?: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

export interface ImageDeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

/** A line of the JSON progress stream (pull, push, import, load, build). */
export interface JSONMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: unknown;
  errorDetail?: { code?: number; message: string };
  error?: string;
}

/** One row of `GET /images/{name}/history`, newest first. */
export interface ImageHistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface ImagesPruneResponse {
  ImagesDeleted: ImageDeleteResponseItem[] | null;
  SpaceReclaimed: number;
}

/** `GET /distribution/{name}/json`. */
export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: Platform[];
}
