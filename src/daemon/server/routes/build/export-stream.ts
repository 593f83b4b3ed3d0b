/**
 * The response of `POST /build?outputs=[{"Type":"local"|"tar"}]` (berth
 * build -o): one multiplexed stream (Docker's stdcopy framing), stderr
 * frames carrying the usual JSON progress lines and stdout frames the
 * target stage's files as a tar. The 200 goes out with the first frame, so
 * an early failure is still a plain HTTP error.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { frame, StdStream } from '../../../../api/stdcopy.js';
import type { JSONMessage } from '../../../../api/types/index.js';
import { InvalidParameter, NotImplemented } from '../../../../errdefs/index.js';
import type { Reply } from '../../reply.js';

export const EXPORT_CONTENT_TYPE = 'application/vnd.docker.multiplexed-stream';

export class ExportStream {
  private out: Writable | undefined;

  constructor(private readonly reply: Reply) {}

  get started(): boolean {
    return this.out !== undefined;
  }

  private start(): Writable {
    this.out ??= this.reply.stream(200, { 'Content-Type': EXPORT_CONTENT_TYPE });
    return this.out;
  }

  progress(m: JSONMessage): void {
    const out = this.start();
    if (!out.writableEnded && !out.destroyed) out.write(frame(StdStream.Stderr, Buffer.from(`${JSON.stringify(m)}\n`)));
  }

  /** Copies the tar into stdout frames, waiting whenever the client is slower than the disk. */
  async files(tar: Readable): Promise<void> {
    const out = this.start();
    for await (const chunk of tar as AsyncIterable<Buffer>) {
      if (out.destroyed) return; // the client went away: nobody to send the rest to
      if (!out.write(frame(StdStream.Stdout, chunk))) await Promise.race([once(out, 'drain'), once(out, 'close')]);
    }
  }

  end(): void {
    const out = this.start();
    if (!out.writableEnded) out.end();
  }
}

/** `outputs` as docker's API spells it (`[{"Type": "local", "Attrs": {...}}]`): true for a files export, false when absent. */
export function wantsFileExport(raw: string | undefined): boolean {
  if (!raw) return false;
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    throw new InvalidParameter('build.bad_param', 'invalid outputs parameter: not JSON');
  }
  if (!Array.isArray(list) || list.length === 0) return false;
  if (list.length > 1) throw new NotImplemented('build.outputs', 'multiple outputs are not supported');
  const type = (list[0] as { Type?: unknown }).Type;
  if (type === 'local' || type === 'tar') return true;
  throw new NotImplemented('build.outputs', `output type "${String(type)}" is not supported by berth: use local or tar`);
}
