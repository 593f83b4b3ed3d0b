import type { Readable } from 'node:stream';
import type { PathStat } from '../../../../api/path-stat.js';

/** What the archive routes (`docker cp`) call; implemented by ArchiveService. */
export interface ArchiveBackend {
  statPath(ref: string, path: string): Promise<PathStat>;
  archivePath(ref: string, path: string): Promise<{ stat: PathStat; tar: Readable }>;
  extractToDir(ref: string, path: string, body: Readable, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void>;
}
