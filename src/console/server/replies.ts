/** Error answers of the console server: Docker's `{"message": ...}` body and the error kind's status. */
import type { ServerResponse } from 'node:http';
import { httpStatusOf } from '../../errdefs/index.js';

export function writeError(res: ServerResponse, err: unknown, status = httpStatusOf(err)): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ message: (err as Error).message });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}
