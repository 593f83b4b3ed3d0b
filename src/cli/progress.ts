/**
 * Renders a JSON progress stream as the docker CLI does: on a terminal one
 * line per layer id, redrawn in place with its bar; otherwise plain status
 * lines without the byte counts.
 */
import type { JSONMessage } from '../api/types/index.js';
import { progressText } from '../api/progress.js';
import { throwIfError } from '../client/json-stream.js';

export class ProgressRenderer {
  private readonly lines = new Map<string, number>();
  private count = 0;

  constructor(private readonly out: NodeJS.WriteStream, private readonly tty = Boolean(out.isTTY)) {}

  /** Shows one message; an error message throws (the command exits with its code). */
  write(m: JSONMessage): void {
    throwIfError(m);
    if (m.stream) {
      this.out.write(m.stream);
      return;
    }
    if (!m.status) return;
    const transfer = m.progressDetail?.total !== undefined || m.progressDetail?.current !== undefined;
    if (!this.tty) {
      if (!transfer) this.out.write(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
      return;
    }
    const bar = transfer ? ` ${progressText(m.progressDetail!, this.out.columns || 200)}` : '';
    const text = `${m.id ? `${m.id}: ` : ''}${m.status}${bar}`;
    const line = m.id !== undefined ? this.lines.get(m.id) : undefined;
    if (line === undefined) {
      if (m.id !== undefined) this.lines.set(m.id, this.count);
      this.out.write(`${text}\n`);
      this.count++;
      return;
    }
    const up = this.count - line;
    this.out.write(`\x1b[${up}A\r\x1b[2K${text}\x1b[${up}B\r`);
  }
}
