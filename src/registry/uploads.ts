/**
 * Blob uploads in progress, kept in the storage driver (so an upload can be
 * resumed after a disconnect or a restart): the bytes so far and when it
 * started. One request at a time writes to an upload (`exclusive`); at
 * commit the bytes are sealed (moved where no writer reaches them) and
 * hashed as storage holds them, so what reaches blobs/ matches its digest
 * whatever requests, processes or crashes interleaved.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digester } from '../oci/index.js';
import { RegistryError } from './errors.js';
import type { StorageDriver } from './storage/driver.js';
import { uploadDataPath, uploadDir, uploadSealedPath, uploadStartedAtPath } from './storage/paths.js';

const UPLOAD_ID = /^[a-f0-9-]{36}$/;

/** An upload id as `start` makes them (a UUID); anything else is an upload this registry never started. */
function checkUploadId(uuid: string): string {
  if (!UPLOAD_ID.test(uuid)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
  return uuid;
}

export class Uploads {
  /** Uploads a request of this process is writing to or committing. */
  private readonly busy = new Set<string>();

  constructor(private readonly driver: StorageDriver) {}

  async start(name: string): Promise<string> {
    const uuid = randomUUID();
    await this.driver.putContent(uploadStartedAtPath(name, uuid), new Date().toISOString());
    await this.driver.putContent(uploadDataPath(name, checkUploadId(uuid)), '');
    return uuid;
  }

  /**
   * Runs `fn` as the only request on upload `uuid`: one arriving meanwhile
   * (a second PATCH, a PUT during a PATCH) gets 416, as a chunk that does not
   * start where the upload stands. In-process only: registries sharing one
   * bucket are not serialized, the digest check at commit keeps them right.
   */
  async exclusive<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(uuid)) throw new RegistryError('RANGE_INVALID', 'another request is writing to this upload');
    this.busy.add(uuid);
    try {
      return await fn();
    } finally {
      this.busy.delete(uuid);
    }
  }

  /** Bytes received so far; BLOB_UPLOAD_UNKNOWN when there is no such upload. */
  async size(name: string, uuid: string): Promise<number> {
    const st = await this.driver.stat(uploadDataPath(name, checkUploadId(uuid)));
    if (!st) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
    return st.size;
  }

  /**
   * Appends a chunk. `start` (from Content-Range) must be where the upload
   * stands, else 416; `length` (Content-Length) must match what arrived.
   */
  async append(name: string, uuid: string, body: Readable, start?: number, length?: number): Promise<number> {
    const have = await this.size(name, uuid);
    if (start !== undefined && start !== have) throw new RegistryError('RANGE_INVALID', `upload is at ${have}, chunk starts at ${start}`);
    const out = await this.driver.writer(uploadDataPath(name, checkUploadId(uuid)), true);
    let got = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        got += chunk.length;
        if (!out.write(chunk)) await once(out, 'drain');
      }
    } finally {
      out.end();
      await once(out, 'close').catch(() => {});
    }
    if (length !== undefined && got !== length) throw new RegistryError('SIZE_INVALID', `chunk of ${got} bytes, Content-Length said ${length}`);
    return have + got;
  }

  /**
   * Moves the upload's bytes out of writers' reach and hashes them as
   * stored: the path of the sealed bytes and their sha256.
   */
  async seal(name: string, uuid: string): Promise<{ path: string; digest: string }> {
    await this.size(name, uuid);
    const path = uploadSealedPath(name, uuid, randomBytes(8).toString('hex'));
    await this.driver.move(uploadDataPath(name, checkUploadId(uuid)), path);
    const digester = new Digester();
    await pipeline(await this.driver.reader(path), digester.resume());
    return { path, digest: digester.digest() };
  }

  async remove(name: string, uuid: string): Promise<void> {
    await this.driver.delete(uploadDir(name, checkUploadId(uuid)));
  }
}
