/**
 * Reads the answer to `POST /build?outputs=…` (berth build -o): stdcopy
 * frames, stdout carrying the target's files as a tar (written to `tar`,
 * waiting for it to drain) and stderr the JSON progress lines.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { StdDemuxer, StdStream } from '../api/stdcopy.js';
import type { JSONMessage } from '../api/types/index.js';
import { StreamError } from './json-stream.js';

export async function readBuildExport(body: AsyncIterable<Buffer>, tar: Writable, progress: (m: JSONMessage) => void): Promise<void> {
  let frames: [StdStream, Buffer][] = [];
  const demux = new StdDemuxer((stream, payload) => frames.push([stream, payload]));
  let rest = '';
  for await (const chunk of body) {
    demux.push(chunk);
    const ready = frames;
    frames = [];
    for (const [stream, payload] of ready) {
      if (stream === StdStream.Stdout) {
        // the writer failed (a bad path, a full disk): its error is the export's
        if (tar.destroyed) throw tar.errored ?? new StreamError('the export destination was closed');
        if (!tar.write(payload)) await once(tar, 'drain');
        continue;
      }
      const lines = (rest + payload.toString('utf8')).split('\n');
      rest = lines.pop()!;
      for (const l of lines) if (l.trim()) progress(JSON.parse(l) as JSONMessage);
    }
  }
  if (rest.trim()) progress(JSON.parse(rest) as JSONMessage);
}
