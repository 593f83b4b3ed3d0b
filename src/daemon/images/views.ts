/** Wire views of an image (pure). */
import type { ImageInspect, ImageSummary } from '../../api/types/index.js';
import { familiarString, parseReference } from '../../oci/reference.js';
import type { Image } from './image-store.js';

function familiarDigests(img: Image): string[] {
  return img.repoDigests.map((d) => {
    try {
      return familiarString(parseReference(d));
    } catch {
      return d;
    }
  });
}

/** `shown` narrows the tags and digests to those a `reference` filter matched, as `docker images NAME` lists. */
export function imageSummary(img: Image, tags: string[], apiAtLeast144: boolean, shown: (refs: string[]) => string[] = (r) => r): ImageSummary {
  const s: ImageSummary = {
    Id: img.id,
    ParentId: img.parent ?? '',
    RepoTags: shown(tags),
    RepoDigests: shown(familiarDigests(img)),
    Created: Math.floor(Date.parse(img.config.created ?? '1970-01-01T00:00:00Z') / 1000),
    Size: img.size,
    SharedSize: -1,
    Labels: img.config.config?.Labels ?? null,
    Containers: -1,
  };
  if (!apiAtLeast144) s.VirtualSize = img.size;
  return s;
}

/** Go's zero container.Config as dockerd prints it: every field present, so `{{.Config.Cmd}}` works on an imported image. */
const CONFIG_ZERO = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false,
  StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
};

export function imageInspect(img: Image, tags: string[], lowerDirs: string[], apiAtLeast145: boolean): ImageInspect {
  const c = img.config;
  const out: ImageInspect = {
    Id: img.id,
    RepoTags: tags,
    RepoDigests: familiarDigests(img),
    Parent: img.parent ?? '',
    Comment: (c.comment as string | undefined) ?? c.history?.at(-1)?.comment ?? '',
    Created: c.created ?? '0001-01-01T00:00:00Z',
    DockerVersion: c.docker_version ?? '',
    Author: c.author ?? '',
    Config: c.config ? { ...CONFIG_ZERO, ...c.config } : null,
    Architecture: c.architecture,
    Os: c.os,
    Size: img.size,
    GraphDriver: {
      Name: 'overlay2',
      Data: lowerDirs.length
        ? { MergedDir: '', UpperDir: lowerDirs[0]!, LowerDir: lowerDirs.slice(1).join(':'), WorkDir: '' }
        : null,
    },
    RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: img.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
  if (c.variant) out.Variant = c.variant;
  if (!apiAtLeast145) {
    out.Container = c.container ?? '';
    out.ContainerConfig = c.container_config ?? {};
    out.VirtualSize = img.size;
  }
  if (out.GraphDriver.Data && !out.GraphDriver.Data.LowerDir) delete out.GraphDriver.Data.LowerDir;
  return out;
}
