/** Detects a stream's compression from its magic bytes and undoes it. */
import { spawn } from 'node:child_process';
import { PassThrough, Readable, pipeline } from 'node:stream';
import { InvalidParameter } from '../../errdefs/index.js';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export function detectCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  return 'none';
}

/** Reads the first bytes of a stream and gives back an equivalent stream. */
export async function peek(source: Readable, n = 8): Promise<{ head: Buffer; stream: Readable }> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const r = await it.next();
    if (r.done) break;
    chunks.push(r.value);
    got += r.value.length;
  }
  const head = Buffer.concat(chunks);
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  const stream = Readable.from(replay(), { objectMode: false });
  // a source that fails after its reader let go (an import refused mid-way, then its request body
  // destroyed) errors this stream with no one listening: readers get errors through their own
  // pipeline or iterator, and a late one must not be an unhandled 'error' that ends the daemon
  stream.on('error', () => {});
  return { head, stream };
}

/** A stream of the uncompressed bytes, whatever the input's compression. */
export async function decompressed(source: Readable): Promise<{ compression: Compression; stream: Readable }> {
  const { head, stream } = await peek(source);
  const compression = detectCompression(head);
  switch (compression) {
    case 'none':
      return { compression, stream };
    case 'gzip':
      // pipeline() destroys the gunzip when the source fails, so readers see the error;
      // 1 MiB output chunks: a layer's worth of 64 KiB ones costs ~twice the time in callbacks
      // node:zlib loads on the first gzip layer, not at boot (issue 18: idle memory)
      const gunzip = process.getBuiltinModule('node:zlib').createGunzip({ chunkSize: 1 << 20 });
      return { compression, stream: pipeline(stream, gunzip, () => {}).on('error', () => {}) };
    case 'bzip2':
    case 'xz':
    case 'zstd':
      return { compression, stream: throughProgram(compression === 'zstd' ? 'zstd' : compression, ['-dc'], stream) };
  }
}

function throughProgram(cmd: string, args: string[], input: Readable): Readable {
  const out = new PassThrough();
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('error', (err) => out.destroy(new InvalidParameter('layer.decompress', `${cmd}: ${err.message}`)));
  pipeline(input, child.stdin, (err) => {
    if (err && err.code !== 'EPIPE') {
      child.kill();
      out.destroy(err);
    }
  });
  child.stdout.pipe(out, { end: false });
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new InvalidParameter('layer.decompress', `${cmd} -d failed: ${stderr.trim()}`));
  });
  return out;
}
