/**
 * The archive endpoints `docker cp` uses (HEAD/GET/PUT /containers/{id}/archive).
 *
 *   const stat = await statPath(client, 'web', '/etc');          // undefined when missing
 *   const { stat, tar } = await copyFromContainer(client, 'web', '/etc');
 *   await copyToContainer(client, 'web', '/tmp', tarStream, { copyUIDGID: false });
 */
import type { Readable } from 'node:stream';
import { apiError, type EngineClient } from './engine-client.js';

export interface ContainerPathStat {
  name: string;
  size: number;
  /** Go os.FileMode bits. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

export const GO_MODE_DIR = 2 ** 31;
export const GO_MODE_SYMLINK = 2 ** 27;
export const GO_MODE_DEVICE = 2 ** 26;
export const GO_MODE_IRREGULAR = 2 ** 19;

export function hasModeBit(mode: number, bit: number): boolean {
  return Math.floor(mode / bit) % 2 === 1;
}

function decodeStat(header: string | string[] | undefined): ContainerPathStat {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) throw new Error('no X-Docker-Container-Path-Stat header in the answer');
  return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as ContainerPathStat;
}

const archivePath = (ref: string) => `/containers/${encodeURIComponent(ref)}/archive`;

/** HEAD: the stat of a path in a container; throws the daemon's error (NotFound for a missing path). */
export async function statPath(c: EngineClient, ref: string, path: string): Promise<ContainerPathStat> {
  const res = await c.raw('HEAD', `/v${c.version}${archivePath(ref)}?${new URLSearchParams({ path })}`, {});
  res.resume();
  const status = res.statusCode ?? 0;
  if (status === 404) throw apiError(404, `Could not find the file ${path} in container ${ref}`);
  if (status < 200 || status >= 300) throw apiError(status, `HTTP ${status}`);
  return decodeStat(res.headers['x-docker-container-path-stat']);
}

export async function copyFromContainer(c: EngineClient, ref: string, path: string): Promise<{ stat: ContainerPathStat; tar: Readable }> {
  const res = await c.call('GET', archivePath(ref), { query: { path } });
  return { stat: decodeStat(res.headers['x-docker-container-path-stat']), tar: res };
}

export async function copyToContainer(c: EngineClient, ref: string, path: string, tar: Readable, o: { copyUIDGID: boolean }): Promise<void> {
  const res = await c.call('PUT', archivePath(ref), {
    query: { path, noOverwriteDirNonDir: 'true', ...(o.copyUIDGID ? { copyUIDGID: 'true' } : {}) },
    stream: tar,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  res.resume();
}
