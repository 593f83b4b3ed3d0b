/**
 * Unpacks the build context the client sent (a tar, maybe compressed) into
 * a fresh directory, hashing each regular file as it arrives, so a COPY
 * whose sources did not change is recognised without reading them again.
 * A file's bytes are held in memory (HeldFiles) behind a placeholder of its
 * size and mode, and written only when a step needs them on disk: a fully
 * cached build writes no file content.
 *
 * Entries are confined to the directory: names are cleaned (no `..` above
 * it), parents are resolved inside it (a symlink from the archive can point
 * only inside), files are created with O_EXCL|O_NOFOLLOW, hard links must
 * name a path inside. Devices and FIFOs are skipped, as in Docker's context.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { chmod, link, lutimes, mkdir, open, symlink, unlink, utimes } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidParameter } from '../../errdefs/index.js';
import { resolveInRoot } from '../../lib/scoped-path.js';
import { readTar, TarFormatError } from '../../lib/tar/index.js';
import { decompressed } from '../layers/decompress.js';
import { cleanEntryPath } from '../layers/paths.js';
import { storedReference } from './context-manifest.js';
import type { ContextStore } from './context-store.js';
import { HeldFiles } from './held-files.js';

/** Host path of a context file → sha256 (hex) of its contents. */
export type ContentHashes = Map<string, string>;

export interface UnpackedContext {
  hashes: ContentHashes;
  held: HeldFiles;
  /**
   * File bytes that came in the upload; files taken from the context store instead of coming;
   * files that came with the bytes the store already held for their name (nothing kept of them).
   */
  received: { bytes: number; stored: number; unchanged: number };
}

/** An empty context to unpack into (the builder hands it to steps before the upload has ended). */
export function emptyContext(): UnpackedContext {
  return { hashes: new Map(), held: new HeldFiles(), received: { bytes: 0, stored: 0, unchanged: 0 } };
}

/**
 * `arrived`: a regular file (its cleaned name) is complete, while later entries still stream in.
 * `store`: the daemon's context store. With `references` (`berth build`'s incremental upload,
 * context-manifest.ts) entries may refer to stored content, and every file that arrives is kept
 * there for the next build. Either way a large file is first compared with the content its name
 * had last time: the same bytes are read from the store, neither held nor written again.
 */
export async function unpackContext(body: Readable, dir: string, maxBytes = Infinity, into = emptyContext(),
  arrived?: (name: string) => void, store?: ContextStore, references = store !== undefined): Promise<UnpackedContext> {
  const { hashes, held, received } = into;
  let total = 0;
  const tooLarge = () => new InvalidParameter('build.context_too_large', `the build context is larger than the daemon's max-layer-size of ${maxBytes} bytes (unpacked)`);
  // paths this upload made: only those can be in the way of a later entry (the directory starts empty)
  const made = new Set<string>();
  await mkdir(dir, { recursive: true });
  const { stream } = await decompressed(body);
  try {
    for await (const e of readTar(stream)) {
      const h = e.header;
      // a reference to stored content is checked as the manifest entry it is, before any cleaning
      const ref = store && references ? storedReference(h) : undefined;
      const name = cleanEntryPath(h.name, 'context entry');
      if (name === '') continue;
      // a top-level name needs no look at its parent: the directory itself, which exists
      const top = posix.dirname(name) === '.';
      const parent = top ? dir : await resolveInRoot(dir, posix.dirname(name));
      if (!top) await mkdir(parent, { recursive: true });
      const path = join(parent, posix.basename(name));
      const replaces = made.has(path);
      made.add(path);
      const mtime = new Date(h.mtime * 1000);
      switch (h.type) {
        case 'dir':
          await mkdir(path, { recursive: true, mode: h.mode & 0o7777 });
          break;
        case 'file': {
          await held.settle(path);
          if (replaces) await unlink(path).catch(() => {});
          if (ref) {
            const got = await store!.pin(ref.hex);
            if (!got) throw new InvalidParameter('build.bad_manifest', `invalid context manifest entry "${h.name}": the daemon holds no content sha256:${ref.hex} and the upload did not send it`);
            if (got.size !== ref.size) {
              store!.unpin(ref.hex);
              throw new InvalidParameter('build.bad_manifest', `invalid context manifest entry "${h.name}": sha256:${ref.hex} is ${got.size} bytes, not ${ref.size}`);
            }
            total += got.size;
            if (total > maxBytes) {
              store!.unpin(ref.hex);
              throw tooLarge();
            }
            await holdStored(into, path, h.mode, mtime, { ...got, hex: ref.hex }, () => store!.unpin(ref.hex));
            received.stored++;
            arrived?.(name);
            break;
          }
          // the bytes as they come off the wire, counted against the bound
          const wire = async function* (chunks: AsyncIterable<Buffer>) {
            for await (const c of chunks) {
              total += c.length;
              received.bytes += c.length;
              if (total > maxBytes) throw tooLarge();
              yield c;
            }
          };
          let body: AsyncIterable<Buffer> = wire(e.body);
          const before = store && h.size >= COMPARE_MIN ? await store.candidate(name, h.size) : undefined;
          if (before) {
            const compared = await compareWithStored(body, before.path, h.size).catch((err: unknown) => {
              store!.unpin(before.hex); // the upload broke off mid-file: the pin must not outlive it
              throw err;
            });
            if (compared.same) {
              await holdStored(into, path, h.mode, mtime, before, () => store!.unpin(before.hex));
              received.unchanged++;
              arrived?.(name);
              break;
            }
            held.whenReleased(() => store!.unpin(before.hex));
            body = compared.rest;
          }
          const hash = createHash('sha256');
          const hashed = async function* (chunks: AsyncIterable<Buffer>) {
            for await (const c of chunks) {
              hash.update(c);
              yield c;
            }
          };
          let keep: Buffer[] | string = path;
          if (held.fits(h.size)) {
            // a placeholder of the right size (sparse: no data written) until a step needs the bytes
            const chunks: Buffer[] = [];
            for await (const c of hashed(body)) chunks.push(c);
            await placeholder(path, h.mode, h.size, mtime);
            held.hold(path, chunks, h.size, mtime);
            keep = chunks;
          } else {
            const fh: FileHandle = await open(path, CREATE, h.mode & 0o7777);
            await pipeline(hashed(body), fh.createWriteStream({ highWaterMark: 1 << 20 }));
            await chmod(path, h.mode & 0o7777);
            await utimes(path, mtime, mtime);
          }
          const hex = hash.digest('hex');
          hashes.set(path, hex);
          // kept for the next build (awaited when a later entry of this upload refers to it);
          // from the docker CLI's upload, large files only: the next upload is compared with them
          if (store && (references || h.size >= COMPARE_MIN)) {
            store.put(hex, keep, h.size).catch(() => {});
            store.remember(name, h.size, hex); // a candidate's pin waits for that write
          }
          arrived?.(name);
          break;
        }
        case 'symlink':
          await held.settle(path);
          if (replaces) await unlink(path).catch(() => {});
          await symlink(h.linkname, path);
          await lutimes(path, mtime, mtime).catch(() => {});
          break;
        case 'link': {
          const target = await resolveInRoot(dir, cleanEntryPath(h.linkname, 'link target'));
          await held.settle(path);
          if (replaces) await unlink(path).catch(() => {});
          await link(target, path);
          held.link(path, target);
          const known = hashes.get(target);
          if (known) hashes.set(path, known);
          break;
        }
        default:
          break;
      }
    }
  } catch (err) {
    if (err instanceof TarFormatError) throw new InvalidParameter('build.bad_context', `the build context is not a valid tar archive: ${err.message}`);
    throw err;
  }
  return into;
}

/** Files from this size up are compared with what their name held before rather than held again. */
export const COMPARE_MIN = 1 << 20;

/** A context file is created once, never through a link an earlier entry planted. */
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A file of `size` with no data written (sparse), whose bytes are held elsewhere until a step needs them. */
async function placeholder(path: string, mode: number, size: number, mtime: Date): Promise<void> {
  const fh = await open(path, CREATE, mode & 0o7777);
  try {
    await fh.truncate(size);
    await fh.chmod(mode & 0o7777); // the umask may have taken bits from the create
    await fh.utimes(mtime, mtime);
  } finally {
    await fh.close();
  }
}

/** A context file whose bytes the context store holds: read from there when a step needs them. */
async function holdStored(into: UnpackedContext, path: string, mode: number, mtime: Date, stored: { path: string; size: number; hex: string }, unpin: () => void): Promise<void> {
  await placeholder(path, mode, stored.size, mtime);
  into.held.holdStored(path, stored.path, stored.size, mtime, unpin);
  into.hashes.set(path, stored.hex);
}

/**
 * Reads `chunks` against the stored file (same size), a block at a time,
 * keeping none of them. `same`: every byte matched. Otherwise `rest` is the
 * whole content still to be taken in: the matching part read back from the
 * stored file, then the chunk that differed and what follows it.
 */
async function compareWithStored(chunks: AsyncIterable<Buffer>, stored: string, size: number):
  Promise<{ same: true } | { same: false; rest: AsyncIterable<Buffer> }> {
  const it = chunks[Symbol.asyncIterator]();
  const block = Buffer.allocUnsafe(Math.min(size, 1 << 20));
  let blockAt = 0;
  let blockLen = 0;
  let at = 0;
  const fh = await open(stored, 'r');
  let differing: Buffer | undefined;
  try {
    for (let next = await it.next(); !next.done; next = await it.next()) {
      const c = next.value;
      for (let i = 0; i < c.length;) {
        if (at + i >= blockAt + blockLen) {
          blockAt = at + i;
          blockLen = (await fh.read(block, 0, block.length, blockAt)).bytesRead;
        }
        const n = Math.min(c.length - i, blockAt + blockLen - (at + i));
        if (n <= 0 || !c.subarray(i, i + n).equals(block.subarray(at + i - blockAt, at + i - blockAt + n))) {
          differing = c;
          break;
        }
        i += n;
      }
      if (differing) break;
      at += c.length;
    }
  } finally {
    await fh.close();
  }
  if (!differing && at === size) return { same: true };
  const prefix = at;
  const first = differing;
  return {
    same: false,
    rest: (async function* () {
      if (prefix > 0) yield* createReadStream(stored, { start: 0, end: prefix - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
      if (first) yield first;
      for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
    })(),
  };
}
