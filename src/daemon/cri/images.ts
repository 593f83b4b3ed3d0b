/**
 * The CRI's ImageService over berth's own image store: the same images
 * `docker images` lists, so a `docker pull` is visible to the kubelet and a
 * CRI pull to `docker run`. Names go out fully qualified
 * (docker.io/library/busybox:latest), as containerd reports them.
 */
import type { AuthConfig } from '../../api/registry-auth.js';
import { NotFound } from '../../errdefs/index.js';
import { fullString, parseReference, withDefaultTag } from '../../oci/reference.js';
import type { Image } from '../images/image-store.js';
import type { ImageStore } from '../images/image-store.js';
import type { ImageService } from '../images/service.js';

export interface CriImageDeps {
  images: Pick<ImageStore, 'list' | 'tryResolve' | 'tagsOf'>;
  remove: ImageService['remove'];
  /** Pulls `ref` (name:tag or name@digest) for this host's platform. */
  pull(ref: string, creds: AuthConfig): Promise<void>;
  /** Where layers live, reported by ImageFsInfo. */
  layersDir: string;
}

export interface CriAuth {
  username?: string; password?: string; auth?: string; server_address?: string; identity_token?: string; registry_token?: string;
}

function qualified(familiar: string): string {
  try {
    return fullString(parseReference(familiar));
  } catch {
    return familiar;
  }
}

/** The uid or user name the image runs as, split as the CRI wants them. */
function imageUser(img: Image): { uid: { value: string } | null; username: string } {
  const u = (img.config.config?.User ?? '').split(':')[0] ?? '';
  if (u === '') return { uid: null, username: '' };
  return /^\d+$/.test(u) ? { uid: { value: u }, username: '' } : { uid: null, username: u };
}

export function criImage(img: Image, tags: string[]): object {
  return {
    id: img.id, repo_tags: tags.map(qualified), repo_digests: img.repoDigests, size: String(img.size || 1),
    ...imageUser(img), spec: { image: img.id, annotations: {} }, pinned: false,
  };
}

export class CriImages {
  constructor(private readonly d: CriImageDeps) {}

  private resolve(ref: string | undefined): Image | undefined {
    if (!ref) return undefined;
    try {
      return this.d.images.tryResolve(ref);
    } catch {
      return undefined; // an unparsable name is an image that is not there
    }
  }

  list(filter: { image?: { image?: string } | null } | null | undefined): object[] {
    const wanted = filter?.image?.image;
    const images = wanted ? [this.resolve(wanted)].filter((i): i is Image => !!i) : this.d.images.list();
    return images.map((img) => criImage(img, this.d.images.tagsOf(img.id)));
  }

  /** A missing image is `image: null`, not an error (the CRI's rule). */
  status(ref: string | undefined): object {
    const img = this.resolve(ref);
    return { image: img ? criImage(img, this.d.images.tagsOf(img.id)) : null, info: {} };
  }

  async pull(ref: string, auth: CriAuth | null | undefined): Promise<string> {
    const parsed = withDefaultTag(parseReference(ref));
    const creds: AuthConfig = {
      ...(auth?.username ? { username: auth.username } : {}), ...(auth?.password ? { password: auth.password } : {}),
      ...(auth?.auth ? { auth: auth.auth } : {}), ...(auth?.server_address ? { serveraddress: auth.server_address } : {}),
      ...(auth?.identity_token ? { identitytoken: auth.identity_token } : {}), ...(auth?.registry_token ? { registrytoken: auth.registry_token } : {}),
    };
    await this.d.pull(fullString(parsed), creds);
    const img = this.resolve(fullString(parsed));
    if (!img) throw new NotFound('cri.image_not_found', `image ${ref} not found after pull`);
    return img.id;
  }

  /**
   * Idempotent: an image that is not there is not an error. By id, the image
   * goes with every tag (containerd's rule); by name, only that name goes
   * (`docker rmi NAME`'s rule), since the store is shared with Docker's users
   * and another name of the same image may be theirs.
   */
  async remove(ref: string | undefined): Promise<void> {
    const img = this.resolve(ref);
    if (!img || !ref) return;
    const byId = ref.startsWith('sha256:') || /^[a-f0-9]{12,64}$/.test(ref);
    await this.d.remove(byId ? img.id : ref, { force: byId, noprune: false }).catch((err: unknown) => {
      if (!(err instanceof NotFound)) throw err;
    });
  }

  fsInfo(): object {
    const used = this.d.images.list().reduce((n, i) => n + (i.size || 0), 0);
    const usage = {
      timestamp: String(BigInt(Date.now()) * 1_000_000n), fs_id: { mountpoint: this.d.layersDir },
      used_bytes: { value: String(used) }, inodes_used: { value: '0' },
    };
    return { image_filesystems: [usage], container_filesystems: [] };
  }
}
