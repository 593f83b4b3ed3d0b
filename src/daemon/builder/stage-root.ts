/**
 * A finished stage's (or an image's) filesystem for COPY --from: its single
 * layer directory as is, or its layers merged by a read-only overlay mount
 * (lower dirs only) that `release` takes down.
 */
import { lstat, mkdir, rmdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Digest } from '../../oci/digest.js';
import { mount, unmount } from '../../lib/mount.js';
import type { LayerStore } from '../layers/layer-store.js';

export class StageRoot {
  private mounted = false;

  constructor(private readonly layers: LayerStore, private readonly chainId: Digest | undefined, private readonly mountpoint: string) {}

  async open(): Promise<string> {
    const lower = this.chainId ? await this.layers.lowerDirs(this.chainId) : [];
    await mkdir(this.mountpoint, { recursive: true });
    if (lower.length === 0) return this.mountpoint; // FROM scratch with nothing copied yet: empty
    if (lower.length === 1) return lower[0]!;
    await mount({ type: 'overlay', source: 'overlay', options: ['ro', `lowerdir=${lower.join(':')}`] }, this.mountpoint);
    this.mounted = true;
    return this.mountpoint;
  }

  async release(): Promise<void> {
    if (this.mounted) await unmount(this.mountpoint, true);
    this.mounted = false;
    await rmdir(this.mountpoint).catch(() => {});
  }

  /** What `path` is in a stack of layer dirs (top first): 'dir', 'other', or undefined when absent or whited out. */
  static async kindIn(lowerDirs: string[], path: string): Promise<'dir' | 'other' | undefined> {
    const rel = path.replace(/^\/+/, '');
    if (rel === '') return 'dir';
    for (const dir of lowerDirs) {
      try {
        await lstat(join(dir, posix.dirname(rel), `.wh.${posix.basename(rel)}`));
        return undefined;
      } catch {
        // no whiteout in this layer
      }
      try {
        const st = await lstat(join(dir, rel));
        if (st.isCharacterDevice() && st.rdev === 0) return undefined; // overlay whiteout
        return st.isDirectory() ? 'dir' : 'other';
      } catch {
        // not in this layer
      }
    }
    return undefined;
  }
}
