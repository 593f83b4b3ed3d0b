/**
 * The files tab's two reads, done here rather than in the page so the
 * allow-list never forwards the raw archive route: `GET
 * /containers/{id}/archive` streams a tar of the path, which this module
 * turns into a listing of a directory's direct children, or the bytes of
 * one file (a download).
 *
 *   GET /files?container=web&path=/etc           → {"path":"/etc","entries":[{"name":"hosts","type":"file",…}]}
 *   GET /files/download?container=web&path=/etc/hosts → the file, as an attachment
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { posix } from 'node:path';
import type { EngineClient } from '../../client/engine-client.js';
import { InvalidParameter, NotFound, SystemError } from '../../errdefs/index.js';
import { readTar, type TarEntryType } from '../../lib/tar/index.js';
import { writeError } from './replies.js';

export interface FileEntry {
  name: string;
  type: TarEntryType;
  size: number;
  mode: number;
  mtime: number;
  linkname?: string;
}

/** Past this many entries in the archive a listing stops reading and says it is cut short. */
const MAX_ENTRIES = 20_000;

function target(url: URL): { container: string; path: string } {
  const container = url.searchParams.get('container') ?? '';
  const path = url.searchParams.get('path') ?? '/';
  if (!container) throw new InvalidParameter('console.bad_files_request', 'a files request needs ?container=');
  if (!path.startsWith('/')) throw new InvalidParameter('console.bad_files_request', `the path must be absolute: ${path}`);
  return { container, path: posix.normalize(path) };
}

/** The daemon's archive of `path` in `container`, or its error answered as the daemon worded it. */
async function archive(client: EngineClient, container: string, path: string): Promise<IncomingMessage> {
  const upstream = await client.raw('GET', `/v${client.version}/containers/${encodeURIComponent(container)}/archive?path=${encodeURIComponent(path)}`, {});
  if (upstream.statusCode === 200) return upstream;
  let body = '';
  for await (const c of upstream) body += String(c);
  let message = body;
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? body;
  } catch { /* a plain-text answer */ }
  throw upstream.statusCode === 404 ? new NotFound('console.no_such_path', message) : new SystemError('console.archive_failed', message);
}

/** Answers a listing of a directory (or the one entry of a file) as JSON. */
export async function listFiles(client: EngineClient, res: ServerResponse, url: URL): Promise<void> {
  const { container, path } = target(url);
  const upstream = await archive(client, container, path);
  res.once('close', () => upstream.destroy());
  const entries: FileEntry[] = [];
  let root: string | undefined;
  let rootType: TarEntryType = 'dir';
  let seen = 0;
  let truncated = false;
  for await (const e of readTar(upstream)) {
    const name = e.header.name.replace(/\/+$/, '');
    if (root === undefined) {
      // the first entry is the path itself, named by its base name
      root = name;
      rootType = e.header.type;
      if (rootType !== 'dir') entries.push(entryOf(posix.basename(name), e.header));
      continue;
    }
    if (++seen > MAX_ENTRIES) {
      truncated = true;
      break;
    }
    const rel = name.slice(root.length + 1);
    if (rel && !rel.includes('/')) entries.push(entryOf(rel, e.header));
  }
  upstream.destroy();
  entries.sort((a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || a.name.localeCompare(b.name));
  const body = JSON.stringify({ path, type: rootType, entries, truncated });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

function entryOf(name: string, h: { type: TarEntryType; size: number; mode: number; mtime: number; linkname: string }): FileEntry {
  return { name, type: h.type, size: h.type === 'file' ? h.size : 0, mode: h.mode, mtime: h.mtime, ...(h.linkname ? { linkname: h.linkname } : {}) };
}

/** Streams one regular file out of the archive as a download. */
export async function downloadFile(client: EngineClient, res: ServerResponse, url: URL): Promise<void> {
  const { container, path } = target(url);
  const upstream = await archive(client, container, path);
  res.once('close', () => upstream.destroy());
  for await (const e of readTar(upstream)) {
    if (e.header.type !== 'file') {
      upstream.destroy();
      throw new InvalidParameter('console.not_a_file', `${path} is not a regular file`);
    }
    const name = posix.basename(path).replace(/[^\w.@+-]/g, '_') || 'file';
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': e.header.size,
      'Content-Disposition': `attachment; filename="${name}"`,
      'Cache-Control': 'no-store',
    });
    for await (const chunk of e.body) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    res.end();
    upstream.destroy();
    return;
  }
  writeError(res, new NotFound('console.no_such_path', `no file at ${path}`));
}
