/**
 * Layer entries written to disk by GNU tar (ownership, modes, xattrs,
 * devices, hard links): the entries, already checked and translated by
 * apply.ts, go to a `tar -x` as a stream, started through the helper when
 * there is one (its stdin then a FIFO beside `dir`: no fork of the daemon).
 *
 *   const sink = new GnuTarSink(dir);
 *   await sink.add(header, body); ...; await sink.finish();   // or: throw await sink.abort(err)
 */
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidParameter } from '../../errdefs/index.js';
import { ExecError, spawnStdin, type StdinProgram } from '../../lib/exec.js';
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

let fifoSeq = 0;

export class GnuTarSink implements EntrySink {
  private readonly out = new TarWriter();
  private readonly program: Promise<StdinProgram>;
  private readonly exited: Promise<void>;
  private readonly toTar: Promise<void>;

  constructor(dir: string) {
    // without root, owners cannot be kept: files belong to whoever unpacks (the copy store in unit tests)
    const owners = process.getuid?.() === 0 ? ['--same-owner'] : ['--no-same-owner'];
    this.program = spawnStdin('tar', [
      '-x', '-f', '-', '-C', dir, '--numeric-owner', ...owners, '--same-permissions',
      '--xattrs', '--xattrs-include=*', '--delay-directory-restore', '--warning=no-unknown-keyword',
      '--warning=no-timestamp',
    ], { path: join(dirname(dir), `.tar-x-${process.pid}-${++fifoSeq}`) });
    this.exited = this.program.then((p) => p.done);
    this.toTar = this.program.then((p) => pipeline(this.out.stream, p.stdin)).catch((err: NodeJS.ErrnoException) => {
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
    await this.exited.catch((err: unknown) => {
      throw err instanceof ExecError ? extractFailed(err) : err;
    });
  }

  async abort(err: Error): Promise<Error> {
    this.out.abort(err);
    const stopped = (await this.program.catch(() => undefined))?.stop() ?? false;
    const [, exit] = await Promise.allSettled([this.toTar, this.exited]);
    // tar failing first (its stream to us then broke) says why; a tar we stopped only complains of the cut
    if (!(err instanceof InvalidParameter) && !stopped && exit.status === 'rejected' && exit.reason instanceof ExecError && exit.reason.stderr.trim()) {
      return extractFailed(exit.reason);
    }
    return err;
  }
}

function extractFailed(err: ExecError): InvalidLayerError {
  return new InvalidLayerError('layer.extract_failed', `failed to extract layer: ${err.stderr.trim() || err.message}`);
}
