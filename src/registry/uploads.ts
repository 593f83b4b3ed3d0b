/**
 * Blob uploads in progress, kept in the storage driver (so an upload can be
 * resumed after a disconnect or a restart): the bytes so far and when it
 * started. The running hash of an upload written by this process is kept in
 * memory; an upload continued after a restart is hashed again from its bytes.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { RegistryError } from './errors.js';
import type { StorageDriver } from './storage/driver.js';

interface Tracker {
  hash: Hash;
  size: number;
}

export class Uploads {
  private readonly trackers = new Map<string, Tracker>();

  constructor(private readonly driver: StorageDriver) {}

  private dir(name: string, uuid: string): string {
    if (!/^[a-f0-9-]{36}$/.test(uuid)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
    return `repositories/${name}/_uploads/${uuid}`;
  }

  dataPath(name: string, uuid: string): string {
    return `${this.dir(name, uuid)}/data`;
  }

  async start(name: string): Promise<string> {
    const uuid = randomUUID();
    await this.driver.putContent(`${this.dir(name, uuid)}/startedat`, new Date().toISOString());
    await this.driver.putContent(this.dataPath(name, uuid), '');
    this.trackers.set(uuid, { hash: createHash('sha256'), size: 0 });
    return uuid;
  }

  /** Bytes received so far; BLOB_UPLOAD_UNKNOWN when there is no such upload. */
  async size(name: string, uuid: string): Promise<number> {
    const st = await this.driver.stat(this.dataPath(name, uuid));
    if (!st) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
    return st.size;
  }

  /**
   * Appends a chunk. `start` (from Content-Range) must be where the upload
   * stands, else 416; `length` (Content-Length) must match what arrived.
   */
  async append(name: string, uuid: string, body: Readable, start?: number, length?: number): Promise<number> {
    const have = await this.size(name, uuid);
    if (start !== undefined && start !== have) throw new RegistryError('RANGE_INVALID', `upload is at ${have}, chunk starts at ${start}`, undefined, 416);
    let tracker = this.trackers.get(uuid);
    if (tracker && tracker.size !== have) tracker = undefined;
    const out = await this.driver.writer(this.dataPath(name, uuid), true);
    let got = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        got += chunk.length;
        tracker?.hash.update(chunk);
        if (!out.write(chunk)) await once(out, 'drain');
      }
    } finally {
      out.end();
      await once(out, 'close').catch(() => {});
    }
    if (tracker) tracker.size += got;
    else this.trackers.delete(uuid);
    if (length !== undefined && got !== length) throw new RegistryError('SIZE_INVALID', `chunk of ${got} bytes, Content-Length said ${length}`);
    return have + got;
  }

  /** The upload's sha256: from the running hash when it covers every byte, else by reading them. */
  async digest(name: string, uuid: string): Promise<{ digest: string; size: number }> {
    const size = await this.size(name, uuid);
    const tracker = this.trackers.get(uuid);
    if (tracker && tracker.size === size) return { digest: `sha256:${tracker.hash.copy().digest('hex')}`, size };
    const hash = createHash('sha256');
    for await (const chunk of await this.driver.reader(this.dataPath(name, uuid)) as AsyncIterable<Buffer>) hash.update(chunk);
    return { digest: `sha256:${hash.digest('hex')}`, size };
  }

  async remove(name: string, uuid: string): Promise<void> {
    this.trackers.delete(uuid);
    await this.driver.delete(this.dir(name, uuid));
  }
}
