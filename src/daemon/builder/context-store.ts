/**
 * Context files kept between builds for `berth build`'s incremental upload
 * (docs/build.md, "The incremental context"): content-addressed, least
 * recently used dropped past a size bound, emptied by `builder prune`.
 *
 *   <data-root>/build-context-store/
 *     sha256/<hex>     a file's bytes (never handed to a step: copied out)
 *     tmp/<random>     a file being written, renamed into sha256/ once whole
 *
 *   const missing = await store.missing(['ab12…']);   // what the client must send
 *   const got = await store.pin('ab12…');              // { path, size } | undefined; unpin when the build ends
 *   const was = await store.candidate('big.bin', n);   // what that name had at that size last time, pinned
 *
 * A file a build in progress has pinned is neither evicted nor pruned.
 * The docker CLI's upload (the classic API) sends every file again: a large
 * one is compared with what its name held before (context.ts), and kept
 * here under its digest when it differs.
 */
import { randomBytes } from '../../lib/lazy-crypto.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

/** Default bound on the store's bytes. */
export const CONTEXT_STORE_MAX = 1 << 30;

/** Names remembered with their last content (a bounded map: the oldest goes first). */
const REMEMBERED_MAX = 4096;

const HEX = /^[0-9a-f]{64}$/;

interface Entry {
  size: number;
  lastUsed: number;
}

export class ContextStore {
  private readonly entries = new Map<string, Entry>();
  private readonly pins = new Map<string, number>();
  private readonly writing = new Map<string, Promise<void>>();
  /** `name\0size` → the digest a context file of that name and size had last. */
  private readonly remembered = new Map<string, string>();
  private loaded: Promise<void> | undefined;
  private bytes = 0;

  constructor(private readonly root: string, private readonly maxBytes = CONTEXT_STORE_MAX) {}

  /** The digests (hex) of `wanted` the store does not hold. */
  async missing(wanted: Iterable<string>): Promise<string[]> {
    await this.load();
    const out = new Set<string>();
    for (const hex of wanted) if (!this.entries.has(hex) && !this.writing.has(hex)) out.add(hex);
    return [...out];
  }

  /** The stored file of `hex`, kept until `unpin`; undefined when the store does not have it. */
  async pin(hex: string): Promise<{ path: string; size: number } | undefined> {
    if (!HEX.test(hex)) return undefined;
    await this.load();
    await this.writing.get(hex);
    const e = this.entries.get(hex);
    if (!e) return undefined;
    this.pins.set(hex, (this.pins.get(hex) ?? 0) + 1);
    this.touch(hex, e);
    return { path: this.blob(hex), size: e.size };
  }

  /** The stored file a context entry of this name and size was last seen with, pinned (unpin when done). */
  async candidate(name: string, size: number): Promise<{ hex: string; path: string; size: number } | undefined> {
    const hex = this.remembered.get(`${name}\0${size}`);
    const got = hex === undefined ? undefined : await this.pin(hex);
    if (!got) return undefined;
    if (got.size === size) return { hex: hex!, ...got };
    this.unpin(hex!);
    return undefined;
  }

  /** A context file of this name now has the content `hex` (the next upload compares with it). */
  remember(name: string, size: number, hex: string): void {
    const key = `${name}\0${size}`;
    this.remembered.delete(key); // re-inserted: the newest last
    this.remembered.set(key, hex);
    if (this.remembered.size > REMEMBERED_MAX) this.remembered.delete(this.remembered.keys().next().value!);
  }

  unpin(hex: string): void {
    const n = (this.pins.get(hex) ?? 1) - 1;
    if (n > 0) this.pins.set(hex, n);
    else this.pins.delete(hex);
  }

  /**
   * Keeps a file that arrived (its bytes in memory, or a file on disk) under
   * its already-computed digest. Later pins of the digest wait for the write.
   */
  put(hex: string, source: Buffer[] | string, size: number): Promise<void> {
    if (!HEX.test(hex) || this.entries.has(hex) || this.writing.has(hex)) return this.writing.get(hex) ?? Promise.resolve();
    const done = this.write(hex, source, size).finally(() => this.writing.delete(hex));
    this.writing.set(hex, done);
    return done;
  }

  /** `system df`: the store's bytes, files and last use. */
  async usage(): Promise<{ size: number; files: number; lastUsed: number; inUse: boolean }> {
    await this.load();
    let lastUsed = 0;
    for (const e of this.entries.values()) lastUsed = Math.max(lastUsed, e.lastUsed);
    return { size: this.bytes, files: this.entries.size, lastUsed, inUse: this.pins.size > 0 };
  }

  /** `builder prune`: every file no build in progress uses; the bytes freed. */
  async prune(): Promise<number> {
    await this.load();
    let freed = 0;
    for (const hex of [...this.entries.keys()]) if (!this.pins.has(hex)) freed += await this.drop(hex);
    return freed;
  }

  private blob(hex: string): string {
    return join(this.root, 'sha256', hex);
  }

  private touch(hex: string, e: Entry): void {
    e.lastUsed = Date.now();
    // the order survives a restart through the file's mtime; a lost update only ages the file
    const when = new Date(e.lastUsed);
    utimes(this.blob(hex), when, when).catch(() => {});
  }

  private async write(hex: string, source: Buffer[] | string, size: number): Promise<void> {
    await this.load();
    if (this.entries.has(hex)) return; // found on disk by the load
    const tmp = join(this.root, 'tmp', randomBytes(8).toString('hex'));
    try {
      const from = typeof source === 'string' ? createReadStream(source) : Readable.from(source, { objectMode: false });
      await pipeline(from, createWriteStream(tmp, { mode: 0o600, flags: 'wx' }));
      await rename(tmp, this.blob(hex));
    } catch {
      // the store is only a cache: a failed write costs the next build an upload
      await rm(tmp, { force: true });
      return;
    }
    this.entries.set(hex, { size, lastUsed: Date.now() });
    this.bytes += size;
    await this.evict();
  }

  /** Least recently used first, until the store fits its bound. */
  private async evict(): Promise<void> {
    if (this.bytes <= this.maxBytes) return;
    const order = [...this.entries].filter(([hex]) => !this.pins.has(hex)).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [hex] of order) {
      if (this.bytes <= this.maxBytes) break;
      await this.drop(hex);
    }
  }

  private async drop(hex: string): Promise<number> {
    const e = this.entries.get(hex);
    if (!e) return 0;
    this.entries.delete(hex);
    this.bytes -= e.size;
    await rm(this.blob(hex), { force: true });
    return e.size;
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      await mkdir(join(this.root, 'sha256'), { recursive: true });
      await rm(join(this.root, 'tmp'), { recursive: true, force: true }); // writes a crash cut short
      await mkdir(join(this.root, 'tmp'), { recursive: true });
      for (const hex of await readdir(join(this.root, 'sha256'))) {
        if (!HEX.test(hex)) continue;
        const st = await stat(this.blob(hex)).catch(() => undefined);
        if (!st?.isFile()) continue;
        this.entries.set(hex, { size: st.size, lastUsed: st.mtimeMs });
        this.bytes += st.size;
      }
    })();
    return this.loaded;
  }
}
