/**
 * The S3 storage driver (any S3-compatible service: AWS, Ceph RGW, MinIO):
 * paths become keys under an optional prefix in one bucket. S3 has no
 * append, so a writer is a multipart upload (8 MiB parts, the existing
 * object copied in first when appending); small writes are one PutObject.
 * Uploads therefore live in the bucket, and several registry processes
 * over one bucket serve as one registry.
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand,
  DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
  UploadPartCommand, UploadPartCopyCommand, type CompletedPart,
} from '@aws-sdk/client-s3';
import { Readable, Writable } from 'node:stream';
import type { FileInfo, StorageDriver } from './driver.js';
import { orNotFound, PathNotFound, pathParts } from './errors.js';

export interface S3Options {
  bucket: string;
  region: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style URLs (`endpoint/bucket/key`), as Ceph and MinIO need. */
  forcePathStyle: boolean;
  /** Key prefix inside the bucket. */
  rootDirectory?: string;
}

const PART = 8 << 20;
const MIN_PART = 5 << 20;

export class S3Driver implements StorageDriver {
  readonly name = 's3';
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(o: S3Options) {
    this.s3 = new S3Client({
      region: o.region, forcePathStyle: o.forcePathStyle,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.accessKeyId && o.secretAccessKey ? { credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } } : {}),
      // streamed bodies with trailing checksums (aws-chunked) are refused by RGW 16; send plain bodies
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
    this.bucket = o.bucket;
    this.prefix = (o.rootDirectory ?? '').replace(/^\/+|\/+$/g, '');
  }

  private key(path: string): string {
    return [this.prefix, ...pathParts(path)].filter(Boolean).join('/');
  }

  async getContent(path: string): Promise<Buffer> {
    const key = this.key(path);
    const r = await orNotFound(path, notFound, () => this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
    return Buffer.from(await r.Body!.transformToByteArray());
  }

  async putContent(path: string, data: Buffer | string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: Buffer.from(data) }));
  }

  async reader(path: string, offset = 0): Promise<Readable> {
    const size = (await this.stat(path))?.size;
    if (size === undefined) throw new PathNotFound(path);
    if (offset >= size) return Readable.from([]);
    const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(path), ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) }));
    return r.Body as Readable;
  }

  async writer(path: string, append: boolean): Promise<Writable> {
    const key = this.key(path);
    const existing = append ? (await this.stat(path))?.size ?? 0 : 0;
    let buffered: Buffer[] = [];
    let size = 0;
    let uploadId: string | undefined;
    const parts: CompletedPart[] = [];
    // a small existing object is read back and sent again; a big one is copied server-side as part 1
    if (existing > 0 && existing < MIN_PART) {
      buffered.push(await this.getContent(path));
      size = existing;
    }
    const start = async () => {
      if (uploadId) return;
      uploadId = (await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }))).UploadId!;
      if (existing >= MIN_PART) {
        const r = await this.s3.send(new UploadPartCopyCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: 1, CopySource: `${this.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}` }));
        parts.push({ PartNumber: 1, ETag: r.CopyPartResult!.ETag! });
      }
    };
    const flush = async (final: boolean) => {
      while (size >= PART || (final && size > 0)) {
        const all = Buffer.concat(buffered);
        const body = final && all.length < PART * 2 ? all : all.subarray(0, PART);
        await start();
        const n = parts.length + 1;
        const r = await this.s3.send(new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: body }));
        parts.push({ PartNumber: n, ETag: r.ETag! });
        buffered = [all.subarray(body.length)];
        size = all.length - body.length;
      }
    };
    const s3 = this.s3;
    const bucket = this.bucket;
    return new Writable({
      highWaterMark: PART,
      write(chunk: Buffer, _e, cb) {
        buffered.push(chunk);
        size += chunk.length;
        if (size < PART) return cb();
        flush(false).then(() => cb(), cb);
      },
      final(cb) {
        const done = async () => {
          if (!uploadId && existing < MIN_PART) {
            await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.concat(buffered) }));
            return;
          }
          await flush(true);
          await start();
          await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
        };
        done().then(() => cb(), async (err: Error) => {
          if (uploadId) await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => {});
          cb(err);
        });
      },
    });
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const key = this.key(path);
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { path, size: h.ContentLength ?? 0, isDir: false, modTime: h.LastModified ?? new Date(0) };
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    const l = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${key}/`, MaxKeys: 1 }));
    return (l.KeyCount ?? 0) > 0 ? { path, size: 0, isDir: true, modTime: new Date(0) } : undefined;
  }

  async list(path: string): Promise<string[]> {
    const prefix = this.key(path) ? `${this.key(path)}/` : '';
    const out = new Set<string>();
    let token: string | undefined;
    do {
      const r = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ...(token ? { ContinuationToken: token } : {}) }));
      for (const p of r.CommonPrefixes ?? []) out.add(p.Prefix!.slice(prefix.length).replace(/\/$/, ''));
      for (const o of r.Contents ?? []) out.add(o.Key!.slice(prefix.length));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return [...out].filter(Boolean).sort();
  }

  async move(src: string, dst: string): Promise<void> {
    const from = this.key(src);
    const to = this.key(dst);
    await orNotFound(src, notFound, () => this.s3.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: `${this.bucket}/${encodeURIComponent(from).replace(/%2F/g, '/')}` })));
    await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: [{ Key: from }] } }));
  }

  async delete(path: string): Promise<void> {
    const key = this.key(path);
    const keys: string[] = [key];
    let token: string | undefined;
    do {
      const r = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${key}/`, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of r.Contents ?? []) keys.push(o.Key!);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    for (let i = 0; i < keys.length; i += 1000) {
      await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
    }
  }
}

/** S3 answered 404 (NoSuchKey, NotFound): the path is not there. Any other failure is an outage. */
function notFound(err: unknown): boolean {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}
