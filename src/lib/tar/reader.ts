import {
  BLOCK, TarFormatError, applyPax, decodeHeader, isZeroBlock, metaFlagOf, padding, parsePax, storedSize,
  type TarHeader,
} from './header.js';

export interface TarEntry {
  header: TarHeader;
  /** The exact header bytes (PAX, long-name and main blocks) of this entry, for pass-through. */
  rawHeader: Buffer[];
  /** The body, in chunks; whatever the consumer leaves unread is skipped. */
  body: AsyncIterable<Buffer>;
}

/** Pulls exact byte counts out of an async chunk source without copying bodies. */
class ChunkReader {
  private pending: Buffer | undefined;
  private readonly it: AsyncIterator<Buffer>;
  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (!this.pending || this.pending.length === 0) {
      const r = await this.it.next();
      if (r.done) return false;
      this.pending = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    }
    return true;
  }

  /** Exactly n bytes, or null on a clean end of input before any byte. */
  async readExact(n: number): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      if (!(await this.fill())) {
        if (got === 0) return null;
        throw new TarFormatError('unexpected end of tar archive');
      }
      const take = this.take(n - got);
      parts.push(take);
      got += take.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  private take(max: number): Buffer {
    const p = this.pending!;
    if (p.length <= max) {
      this.pending = undefined;
      return p;
    }
    this.pending = p.subarray(max);
    return p.subarray(0, max);
  }

  /** Up to n bytes as they arrive; throws if the input ends first. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) throw new TarFormatError('unexpected end of tar archive');
      const c = this.take(left);
      left -= c.length;
      yield c;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.chunks(n)); // eslint-disable-line @typescript-eslint/no-unused-vars
  }

  async drain(): Promise<void> {
    this.pending = undefined;
    for (;;) if ((await this.it.next()).done) return;
  }
}

/**
 * Parses a tar stream entry by entry. Each entry's body must be read (or left)
 * before asking for the next one. The whole input is consumed, trailing
 * padding included, so hashes taken upstream cover every byte.
 */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const r = new ChunkReader(source);
  let globalPax: Record<string, string> = {};
  for (;;) {
    const raw: Buffer[] = [];
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    let longLink: string | undefined;
    let block = await r.readExact(BLOCK);
    if (!block) throw new TarFormatError('unexpected end of tar archive: no end marker');
    if (isZeroBlock(block)) break;
    for (let flag = metaFlagOf(block); flag; flag = metaFlagOf(block)) {
      const size = storedSize(block);
      if (size > 1 << 20) throw new TarFormatError('tar metadata record too large');
      const data = await r.readExact(size + padding(size));
      if (!data && size > 0) throw new TarFormatError('unexpected end of tar archive');
      raw.push(block);
      if (data) raw.push(data);
      const content = (data ?? Buffer.alloc(0)).subarray(0, size);
      if (flag === 'x') pax = { ...pax, ...parsePax(content) };
      else if (flag === 'g') globalPax = { ...globalPax, ...parsePax(content) };
      else if (flag === 'L') longName = content.toString('utf8').replace(/\0+$/, '');
      else longLink = content.toString('utf8').replace(/\0+$/, '');
      const next = await r.readExact(BLOCK);
      if (!next) throw new TarFormatError('unexpected end of tar archive');
      block = next;
    }
    raw.push(block);
    const { flag: _flag, ...header } = decodeHeader(block);
    if (longName !== undefined) header.name = longName;
    if (longLink !== undefined) header.linkname = longLink;
    applyPax(header, { ...globalPax, ...pax });
    const bodySize = header.type === 'file' ? header.size : storedSize(block);
    let left = bodySize;
    const body: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: async function* () {
        for await (const c of r.chunks(left)) {
          left -= c.length;
          yield c;
        }
      },
    };
    yield { header, rawHeader: raw, body };
    if (left > 0) await r.skip(left);
    await r.skip(padding(bodySize));
  }
  await r.drain();
}
