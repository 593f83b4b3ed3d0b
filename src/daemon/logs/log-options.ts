/**
 * `--log-driver` / `--log-opt` for the json-file driver (Docker's names and
 * messages): `max-size` (bytes with k/m/g units) and `max-file` (files kept,
 * the live one included). Pure: checked at create, used when a writer opens.
 */
import { InvalidParameter } from '../../errdefs/index.js';
import { ramInBytes } from '../../lib/units.js';

export interface Rotation {
  /** Rotate when the live file would grow past this many bytes. */
  maxSize?: number;
  /** Files kept, the live one included (1: the live file is started over). */
  maxFiles: number;
}

const KNOWN = new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']);

export function rotationOf(logConfig: { Type: string; Config: Record<string, string> } | undefined): Rotation {
  const type = logConfig?.Type || 'json-file';
  const opts = logConfig?.Config ?? {};
  if (type !== 'json-file' && type !== 'local' && type !== 'none') {
    throw new InvalidParameter('container.log_driver', `logger: no log driver named '${type}' is registered (berth has json-file, local and none)`);
  }
  for (const k of Object.keys(opts)) {
    if (!KNOWN.has(k)) throw new InvalidParameter('container.log_opt', `unknown log opt '${k}' for ${type} log driver`);
  }
  if (opts.compress === 'true') throw new InvalidParameter('container.log_opt', "log opt 'compress' is not supported by berth's json-file driver yet");
  let maxSize: number | undefined;
  if (opts['max-size'] !== undefined && opts['max-size'] !== '-1') {
    try {
      maxSize = ramInBytes(opts['max-size']);
    } catch {
      maxSize = NaN;
    }
    if (!Number.isFinite(maxSize) || maxSize <= 0) throw new InvalidParameter('container.log_opt', `invalid max-size: ${opts['max-size']}`);
  }
  let maxFiles = 1;
  if (opts['max-file'] !== undefined) {
    maxFiles = Number(opts['max-file']);
    if (!Number.isInteger(maxFiles) || maxFiles < 1) throw new InvalidParameter('container.log_opt', 'max-file cannot be less than 1');
    if (maxSize === undefined && type !== 'local') throw new InvalidParameter('container.log_opt', 'max-file cannot be set without max-size');
  }
  // `local` keeps Docker's defaults for it (20 MB x 5); berth stores it in the json-file format
  if (type === 'local' && maxSize === undefined) return { maxSize: 20 << 20, maxFiles: opts['max-file'] ? maxFiles : 5 };
  return { ...(maxSize !== undefined ? { maxSize } : {}), maxFiles };
}
