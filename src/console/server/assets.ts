/**
 * The console's page, script and styles: built by scripts/bundle.mjs into
 * `dist/console/` (never committed) and served from memory after their
 * first read. Nothing is loaded from the network.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFound } from '../../errdefs/index.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/** `dist/console`, found from this module whether it runs from dist/src (tsc) or dist/bundle (esbuild). */
export function defaultAssetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const parts = here.split(sep);
  const dist = parts.lastIndexOf('dist');
  return join(dist === -1 ? here : parts.slice(0, dist + 1).join(sep) || sep, 'console');
}

export interface Asset {
  type: string;
  body: Buffer;
}

export class AssetStore {
  private readonly cache = new Map<string, Promise<Asset>>();
  constructor(private readonly dir: string) {}

  /** The asset for a URL path (`/` is the page); NotFound for anything else. */
  get(path: string): Promise<Asset> {
    const name = path === '/' ? 'index.html' : path.slice(1);
    const ext = name.slice(name.lastIndexOf('.'));
    if (!/^[a-z0-9-]+\.[a-z]+$/.test(name) || !TYPES[ext]) return Promise.reject(new NotFound('console.not_found', `page not found: ${path}`));
    let hit = this.cache.get(name);
    if (!hit) {
      hit = readFile(join(this.dir, name)).then(
        (body) => ({ type: TYPES[ext]!, body }),
        () => {
          this.cache.delete(name);
          throw new NotFound('console.not_found', `page not found: ${path}`);
        },
      );
      this.cache.set(name, hit);
    }
    return hit;
  }
}
