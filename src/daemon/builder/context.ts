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
import { constants } from 'node:fs';
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
  /** File bytes that came in the upload, and files taken from the context store instead. */
  received: { bytes: number; stored: number };
}

/** An empty context to unpack into (the builder hands it to steps before the upload has ended). */
export function emptyContext(): UnpackedContext {
  return { hashes: new Map(), held: new HeldFiles(), received: { bytes: 0, stored: 0 } };
}

/**
 * `arrived`: a regular file (its cleaned name) is complete, while later entries still stream in.
 * `store`: `berth build`'s incremental upload (context-manifest.ts): entries may refer to stored
 * content, and every file that arrives is kept there for the next build.
 */
export async function unpackContext(body: Readable, dir: string, maxBytes = Infinity, into = emptyContext(),
  arrived?: (name: string) => void, store?: ContextStore): Promise<UnpackedContext> {
  const { hashes, held, received } = into;
  let total = 0;
  const { stream } = await decompressed(body);
  try {
    for await (const e of readTar(stream)) {
      const h = e.header;
      // a reference to stored content is checked as the manifest entry it is, before any cleaning
      const ref = store ? storedReference(h) : undefined;
      const name = cleanEntryPath(h.name, 'context entry');
      if (name === '') continue;
      const parent = await resolveInRoot(dir, posix.dirname(name));
      await mkdir(parent, { recursive: true });
      const path = join(parent, posix.basename(name));
      const mtime = new Date(h.mtime * 1000);
      switch (h.type) {
        case 'dir':
          await mkdir(path, { recursive: true, mode: h.mode & 0o7777 });
          break;
        case 'file': {
          await held.settle(path);
          await unlink(path).catch(() => {});
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
              throw new InvalidParameter('build.context_too_large', `the build context is larger than the daemon's max-layer-size of ${maxBytes} bytes (unpacked)`);
            }
            const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, h.mode & 0o7777);
            try {
              await fh.truncate(got.size);
            } finally {
              await fh.close();
            }
            held.holdStored(path, got.path, got.size, mtime, () => store!.unpin(ref.hex));
            await chmod(path, h.mode & 0o7777);
            await utimes(path, mtime, mtime);
            hashes.set(path, ref.hex);
            received.stored++;
            arrived?.(name);
            break;
          }
          const hash = createHash('sha256');
          const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
          const fh: FileHandle = await open(path, flags, h.mode & 0o7777);
          const counted = async function* (chunks: AsyncIterable<Buffer>) {
            for await (const c of chunks) {
              total += c.length;
              received.bytes += c.length;
              if (total > maxBytes) throw new InvalidParameter('build.context_too_large', `the build context is larger than the daemon's max-layer-size of ${maxBytes} bytes (unpacked)`);
              hash.update(c);
              yield c;
            }
          };
          let keep: Buffer[] | string = path;
          if (held.fits(h.size)) {
            // a placeholder of the right size (sparse: no data written) until a step needs the bytes
            const chunks: Buffer[] = [];
            try {
              for await (const c of counted(e.body)) chunks.push(c);
              await fh.truncate(h.size);
            } finally {
              await fh.close();
            }
            held.hold(path, chunks, h.size, mtime);
            keep = chunks;
          } else {
            await pipeline(e.body, counted, fh.createWriteStream({ highWaterMark: 1 << 20 }));
          }
          await chmod(path, h.mode & 0o7777);
          await utimes(path, mtime, mtime);
          const hex = hash.digest('hex');
          hashes.set(path, hex);
          // kept for the next build; awaited when a later entry of this upload refers to it
          if (store) store.put(hex, keep, h.size).catch(() => {});
          arrived?.(name);
          break;
        }
        case 'symlink':
          await held.settle(path);
          await unlink(path).catch(() => {});
          await symlink(h.linkname, path);
          await lutimes(path, mtime, mtime).catch(() => {});
          break;
        case 'link': {
          const target = await resolveInRoot(dir, cleanEntryPath(h.linkname, 'link target'));
          await held.settle(path);
          await unlink(path).catch(() => {});
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
