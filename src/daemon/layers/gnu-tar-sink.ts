/**
 * Layer entries written to disk by GNU tar (ownership, modes, xattrs,
 * devices, hard links): the entries, already checked and translated by
 * apply.ts, go to a `tar -x` as a stream.
 *
 *   const sink = new GnuTarSink(dir);
 *   await sink.add(header, body); ...; await sink.finish();   // or: throw await sink.abort(err)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { InvalidParameter } from '../../errdefs/index.js';
import { TarWriter, type TarHeader } from '../../lib/tar/index.js';

export class InvalidLayerError extends InvalidParameter {}

/** Where translated layer entries go (this one, or disk-sink.ts). */
export interface EntrySink {
  add(h: TarHeader, body?: AsyncIterable<Buffer>): Promise<void>;
  /** Resolves once every entry is on disk. */
  finish(): Promise<void>;
  /** Stops; the error to report (the writer's own reason when it has one). */
  abort(err: Error): Promise<Error>;
}

export class GnuTarSink implements EntrySink {
  private readonly out = new TarWriter();
  private readonly child: ChildProcess;
  private stderr = '';
  private readonly exited: Promise<number | null>;
  private readonly toTar: Promise<void>;

  constructor(dir: string) {
    // without root, owners cannot be kept: files belong to whoever unpacks (the copy store in unit tests)
    const owners = process.getuid?.() === 0 ? ['--same-owner'] : ['--no-same-owner'];
    this.child = spawn('tar', [
      '-x', '-f', '-', '-C', dir, '--numeric-owner', ...owners, '--same-permissions',
      '--xattrs', '--xattrs-include=*', '--delay-directory-restore', '--warning=no-unknown-keyword',
      '--warning=no-timestamp',
    ], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise<number | null>((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code) => resolve(code));
    });
    this.toTar = pipeline(this.out.stream, this.child.stdin!).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
    // both are awaited in finish or abort, but either can fail before (tar exits early): unheard, that ends the daemon
    this.exited.catch(() => {});
    this.toTar.catch(() => {});
  }

  add(h: TarHeader, body?: AsyncIterable<Buffer>): Promise<void> {
    return this.out.add(h, body);
  }

  async finish(): Promise<void> {
    await this.out.finish();
    await this.toTar;
    const code = await this.exited;
    if (code !== 0) throw new InvalidLayerError('layer.extract_failed', `failed to extract layer: ${this.stderr.trim() || `tar exited with ${code}`}`);
  }

  async abort(err: Error): Promise<Error> {
    this.out.abort(err);
    this.child.kill('SIGKILL');
    const [, code] = await Promise.allSettled([this.toTar, this.exited]);
    // a write error towards tar usually means tar itself failed: its message says why
    if (!(err instanceof InvalidParameter) && code.status === 'fulfilled' && code.value !== 0 && this.stderr.trim()) {
      return new InvalidLayerError('layer.extract_failed', `failed to extract layer: ${this.stderr.trim()}`);
    }
    return err;
  }
}
