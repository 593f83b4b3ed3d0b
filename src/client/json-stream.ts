/** Reads newline-delimited JSON messages (progress of import, load, pull, build; events). */
import type { JSONMessage } from '../api/types/index.js';
import { SystemError } from '../errdefs/index.js';

export async function* jsonMessages<T = JSONMessage>(body: AsyncIterable<Buffer>): AsyncGenerator<T> {
  let rest = '';
  for await (const chunk of body) {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop()!;
    for (const l of lines) if (l.trim()) yield JSON.parse(l) as T;
  }
  if (rest.trim()) yield JSON.parse(rest) as T;
}

/** An error reported inside a progress stream (`errorDetail`), as the docker CLI surfaces it. */
export class StreamError extends SystemError {
  constructor(message: string, readonly exitCode = 1) {
    super('client.stream_error', message);
  }
}

export function throwIfError(m: JSONMessage): void {
  if (m.errorDetail) throw new StreamError(m.errorDetail.message, m.errorDetail.code || 1);
  if (m.error) throw new StreamError(m.error);
}
