/**
 * Which mount ids hold each external volume. A volume plugin is told
 * Mount(name, id) once per container mount point at start and
 * Unmount(name, id) with the same id when that container stops; this
 * ledger keeps the calls paired (no Unmount for an id never mounted, no
 * second Mount for an id that holds the volume) and says when a volume is
 * still in use by a running container.
 */
import { createHash } from '../../lib/lazy-crypto.js';

/** The id of a container's mount point: stable across restarts of the daemon (Docker keeps a random one in the container's config). */
export function mountId(containerId: string, destination: string): string {
  return createHash('sha256').update(`${containerId}\0${destination}`).digest('hex');
}

export class MountRefs {
  private readonly byVolume = new Map<string, Set<string>>();

  /** Records that `id` holds `volume`; false when it already did (no second Mount call). */
  add(volume: string, id: string): boolean {
    let ids = this.byVolume.get(volume);
    if (!ids) this.byVolume.set(volume, (ids = new Set()));
    if (ids.has(id)) return false;
    ids.add(id);
    return true;
  }

  /** Releases `id`; false when it held nothing (no Unmount call). */
  remove(volume: string, id: string): boolean {
    const ids = this.byVolume.get(volume);
    if (!ids?.delete(id)) return false;
    if (ids.size === 0) this.byVolume.delete(volume);
    return true;
  }

  has(volume: string, id: string): boolean {
    return this.byVolume.get(volume)?.has(id) ?? false;
  }

  count(volume: string): number {
    return this.byVolume.get(volume)?.size ?? 0;
  }
}
