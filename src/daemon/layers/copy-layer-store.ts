/**
 * A layer store that needs no overlayfs and no root, for tests (and hosts
 * without overlay): each layer's diff dir holds the whole filesystem of its
 * chain, made by copying the parent's and applying the layer on the copy.
 * The bookkeeping (layer.json, temp dirs, removal) is the overlay store's;
 * only the contents of diff/ differ.
 *
 *   layers/<chain hex>/diff/    the flattened chain: parent's files + this layer, whiteouts applied
 *
 * Applying a layer (unpacked with whiteouts in OCI form, apply.ts):
 *   dir/.wh.name        removes dir/name (file or tree) from the copy
 *   dir/.wh..wh..opq    empties dir of what the parent had (the layer's own entries stay)
 *   anything else       replaces what was there (moved in, so hard links within the layer hold)
 *
 *   const layers = new CopyLayerStore(dir); await layers.init();
 *   const base = await layers.apply(undefined, tar1);
 *   const top = await layers.apply(base.chainId, tar2);
 *   await layers.lowerDirs(top.chainId);      // [diffDir(top)]: one dir, already flattened
 */
import { chmod, lchown, lstat, mkdir, readdir, rename, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../lib/exec.js';
import type { Digest } from '../../oci/digest.js';
import { OverlayLayerStore } from './layer-store.js';
import { OPAQUE_WHITEOUT, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX } from './paths.js';

export class CopyLayerStore extends OverlayLayerStore {
  protected override readonly whiteouts = 'oci' as const;

  protected override async placeOnParent(parent: Digest | undefined, diff: string): Promise<void> {
    const layer = `${diff}.layer`;
    await rename(diff, layer);
    await mkdir(diff);
    try {
      // -a keeps modes, times, symlinks and hard links (owners too, as root)
      if (parent) await run('cp', ['-a', '--reflink=auto', `${this.diffDir(parent)}/.`, `${diff}/`]);
      await applyOnCopy(layer, diff);
    } finally {
      await rm(layer, { recursive: true, force: true });
    }
  }

  override async lowerDirs(chainId: Digest): Promise<string[]> {
    await this.get(chainId); // NotFound for an unknown chain, as the overlay store
    return [this.diffDir(chainId)];
  }
}

/** Moves the layer unpacked at `layer` onto the copy at `target`, applying its whiteouts. */
async function applyOnCopy(layer: string, target: string): Promise<void> {
  const entries = await readdir(layer, { withFileTypes: true });
  if (entries.some((e) => e.name === OPAQUE_WHITEOUT)) {
    for (const name of await readdir(target)) await rm(join(target, name), { recursive: true, force: true });
  }
  for (const e of entries) {
    if (e.name.startsWith(WHITEOUT_META_PREFIX)) continue; // the opaque marker (done above), AUFS metadata
    const to = join(target, e.name);
    if (e.name.startsWith(WHITEOUT_PREFIX)) {
      await rm(join(target, e.name.slice(WHITEOUT_PREFIX.length)), { recursive: true, force: true });
      continue;
    }
    const from = join(layer, e.name);
    if (!e.isDirectory()) {
      await rm(to, { recursive: true, force: true });
      await rename(from, to);
      continue;
    }
    const existing = await lstat(to).catch(() => undefined);
    if (existing && !existing.isDirectory()) await rm(to, { force: true });
    if (!existing || !existing.isDirectory()) await mkdir(to);
    // the layer's entry for the directory carries its new metadata (read before its children move out, which moves its mtime)
    const st = await lstat(from);
    await applyOnCopy(from, to);
    if (process.getuid?.() === 0) await lchown(to, st.uid, st.gid);
    await chmod(to, st.mode & 0o7777);
    await utimes(to, st.atime, st.mtime);
  }
}
