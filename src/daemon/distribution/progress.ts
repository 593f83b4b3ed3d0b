/** Docker's JSON progress messages for pull and push, throttled so a fast transfer does not flood the client. */
import type { JSONMessage } from '../../api/types/index.js';
import { progressText } from '../../api/progress.js';
import { hexOf, type Digest } from '../../oci/digest.js';

export type Progress = (m: JSONMessage) => void;

const EVERY_MS = 100;

/** Per-layer status lines; `id` is the 12-hex short form Docker shows. */
export class LayerProgress {
  readonly id: string;
  private last = 0;

  constructor(private readonly out: Progress, digest: Digest) {
    this.id = hexOf(digest).slice(0, 12);
  }

  status(status: string): void {
    this.out({ status, progressDetail: {}, id: this.id });
  }

  /** A transfer step (`Downloading`, `Extracting`, `Pushing`), sent at most every 100 ms unless `force`. */
  bytes(status: string, current: number, total: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < EVERY_MS) return;
    this.last = now;
    this.out({ status, progressDetail: { current, total }, progress: progressText({ current, total }), id: this.id });
  }
}
