/**
 * Docker's progress bar text (pkg/jsonmessage JSONProgress.String): the
 * daemon sends it pre-rendered in `progress`, and clients redraw it from
 * `progressDetail`.
 */
import { humanSize } from '../lib/units.js';

export interface ProgressDetail {
  current?: number;
  total?: number;
  /** Unix seconds the transfer started: adds the time left. */
  start?: number;
}

/** `width` is the terminal's; the bar appears only when it is wider than 110 (200 when unknown, as Docker). */
export function progressText(p: ProgressDetail, width = 200, nowMs = Date.now()): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  const bar = width > 110 ? `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] ` : '';
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  let left = '';
  if (current > 0 && p.start && percentage < 50 && width > 50) {
    const perByte = (nowMs - p.start * 1000) / current;
    left = ` ${goSeconds(Math.trunc(((total - current) * perByte) / 1000))}`;
  }
  return bar + numbers + left;
}

/** Go's time.Duration String for whole seconds: "0s", "45s", "2m3s", "1h0m5s". */
function goSeconds(s: number): string {
  if (s <= 0) return '0s';
  const h = Math.trunc(s / 3600);
  const m = Math.trunc((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h${m}m${sec}s`;
  if (m) return `${m}m${sec}s`;
  return `${sec}s`;
}
