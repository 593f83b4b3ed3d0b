/**
 * Context files received but not written: their bytes are held in memory
 * while the context directory has a placeholder for each (created with its
 * mode, size and mtime, no data: a sparse file). A fully cached build only
 * needs names and content hashes, so it writes no file content at all; a
 * COPY that misses reads the bytes from here; whatever reads the context
 * directory itself (ADD, RUN --mount=type=bind, the Dockerfile) first has
 * the files it can see written into their placeholders.
 *
 * Paths are the host paths context.ts created (parents resolved inside the
 * context), the same strings sources.ts and copy-layer.ts walk.
 */
import { constants, createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** Memory all builds together may hold context files in; past it files are written as they arrive. */
export const HOLD_BUDGET = 256 << 20;

/** Bytes held by every build in progress: concurrent builds must not hold a budget each. */
let heldByAll = 0;

interface Held {
  /** The bytes in memory, or the context store's file of them (`berth build`'s incremental upload). */
  chunks: Buffer[] | { stored: string };
  size: number;
  mtime: Date;
}

export class HeldFiles {
  private readonly files = new Map<string, Held>();
  /** Hard link path → the path whose placeholder it shares. */
  private readonly links = new Map<string, string>();
  private bytes = 0;
  private readonly onRelease: (() => void)[] = [];

  /** Would `size` more bytes fit in the budget? */
  fits(size: number): boolean {
    return heldByAll + size <= HOLD_BUDGET;
  }

  hold(path: string, chunks: Buffer[], size: number, mtime: Date): void {
    this.files.set(path, { chunks, size, mtime });
    this.bytes += size;
    heldByAll += size;
  }

  /** A file the context store holds: read from there, costing no memory. `unpin` runs at release. */
  holdStored(path: string, stored: string, size: number, mtime: Date, unpin: () => void): void {
    this.files.set(path, { chunks: { stored }, size, mtime });
    this.whenReleased(unpin);
  }

  /** `f` runs at release (a context store pin held while the build may read the stored file). */
  whenReleased(f: () => void): void {
    this.onRelease.push(f);
  }

  /** The build is over: its bytes leave the shared budget (the files are not written). */
  release(): void {
    for (const f of this.onRelease.splice(0)) f();
    heldByAll -= this.bytes;
    this.bytes = 0;
    this.files.clear();
    this.links.clear();
  }

  /** A hard link to `target`: it reads the target's bytes (both names are one placeholder inode). */
  link(path: string, target: string): void {
    const canonical = this.links.get(target) ?? target;
    if (this.files.has(canonical)) this.links.set(path, canonical);
  }

  /** Is the file at `path` (or the one it links to) a placeholder? */
  has(path: string): boolean {
    return this.files.has(this.links.get(path) ?? path);
  }

  /** The held bytes of `path`, or undefined when the file on disk is the real one. */
  body(path: string): Readable | undefined {
    const held = this.files.get(this.links.get(path) ?? path);
    if (!held) return undefined;
    return Array.isArray(held.chunks) ? Readable.from(held.chunks, { objectMode: false }) : createReadStream(held.chunks.stored);
  }

  /** Writes the held files at or below `under` (all of them when omitted) into their placeholders. */
  async write(under?: string): Promise<void> {
    const inside = (p: string) => under === undefined || p === under || p.startsWith(under.endsWith('/') ? under : `${under}/`);
    const wanted = new Set<string>();
    for (const p of this.files.keys()) if (inside(p)) wanted.add(p);
    for (const [p, target] of this.links) if (inside(p)) wanted.add(target);
    for (const p of wanted) await this.writeOne(p);
  }

  /**
   * Before the archive replaces `path`: its placeholder's inode may also be
   * a hard link's, so it gets its bytes first.
   */
  async settle(path: string): Promise<void> {
    if (this.links.delete(path) || !this.files.has(path)) return;
    if ([...this.links.values()].includes(path)) await this.writeOne(path);
    else this.drop(path);
  }

  private async writeOne(path: string): Promise<void> {
    const held = this.files.get(path);
    if (!held) return;
    // the placeholder was created O_EXCL by context.ts; O_NOFOLLOW keeps a later swap from redirecting the write
    const fh = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW);
    try {
      const chunks = Array.isArray(held.chunks) ? held.chunks : createReadStream(held.chunks.stored, { highWaterMark: 1 << 20 });
      let at = 0;
      for await (const c of chunks as AsyncIterable<Buffer>) {
        await fh.write(c, 0, c.length, at);
        at += c.length;
      }
      await fh.utimes(held.mtime, held.mtime);
    } finally {
      await fh.close();
    }
    this.drop(path);
  }

  private drop(path: string): void {
    const held = this.files.get(path);
    if (!held) return;
    this.files.delete(path);
    if (Array.isArray(held.chunks)) {
      this.bytes -= held.size;
      heldByAll -= held.size;
    }
    for (const [p, target] of this.links) if (target === path) this.links.delete(p);
  }
}
