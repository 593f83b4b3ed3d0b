/** COPY/ADD sources that BuildKit's flags add: heredoc files, and `--checksum` verification. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter } from '../../errdefs/index.js';
import type { Heredoc } from './dockerfile.js';
import { expandHeredoc } from './expand.js';
import type { Source } from './sources.js';

/** `COPY <<EOF /path`: the body as a file named after the heredoc, substituted unless its name was quoted. */
export async function heredocSource(doc: Heredoc, env: Map<string, string>, dir: string): Promise<Source> {
  await mkdir(dir);
  const abs = join(dir, doc.name);
  await writeFile(abs, doc.expand ? expandHeredoc(doc.content, env) : doc.content, { mode: 0o644 });
  await chmod(abs, 0o644); // the umask must not decide the copied mode
  return { rel: doc.name, abs, isDir: false };
}

/** ADD --checksum=sha256:<hex>: a local source must have exactly that content. */
export async function verifyChecksum(spec: string, sources: Source[]): Promise<void> {
  const m = /^sha256:([a-f0-9]{64})$/.exec(spec);
  if (!m) throw new InvalidParameter('build.bad_checksum', `invalid checksum digest format: ${spec}`);
  if (sources.length !== 1 || sources[0]!.isDir) throw new InvalidParameter('build.bad_checksum', 'checksum can only be verified for a single file source');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(sources[0]!.abs)) hash.update(chunk as Buffer);
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== spec) throw new InvalidParameter('build.checksum_mismatch', `digest mismatch for ${sources[0]!.rel}: expected ${spec}, got ${actual}`);
}
