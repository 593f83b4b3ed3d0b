/**
 * The CRI log format the kubelet reads (`kubectl logs`), one line per
 * output line:
 *   2016-10-06T00:17:09.669794202Z stdout F hello
 * `F` ends a full line; `P` is a piece of a line longer than the splitter's
 * 16 KiB, continued by the next entry. The newline is not part of the content.
 */
import { rfc3339Nano, type LogStream } from './entry.js';

export function criLogLine(stream: LogStream, line: Buffer, timeNs: bigint): string {
  const full = line.length > 0 && line[line.length - 1] === 0x0a;
  const content = (full ? line.subarray(0, line.length - 1) : line).toString('utf8');
  return `${rfc3339Nano(timeNs)} ${stream} ${full ? 'F' : 'P'} ${content}\n`;
}
