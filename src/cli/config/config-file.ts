/**
 * The client's configuration directory and its config.json, shared with the
 * docker CLI: `--config` > $BERTH_CONFIG > $DOCKER_CONFIG > ~/.docker. Sharing
 * is deliberate: contexts made with `docker context create` work in berth and
 * the other way round, and `context use` switches both.
 *
 * config.json is docker's file: berth reads and changes `currentContext` and
 * `auths` only and keeps every other field as it found it.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidParameter } from '../../errdefs/index.js';
import { writeFileAtomic } from '../../lib/atomic-file.js';

export function configDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.BERTH_CONFIG || env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

export class ConfigFile {
  private constructor(readonly path: string, private readonly data: Record<string, unknown>, private readonly existed: boolean) {}

  static async load(dir: string): Promise<ConfigFile> {
    const path = join(dir, 'config.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new ConfigFile(path, {}, false);
      throw err;
    }
    try {
      const data = text.trim() ? (JSON.parse(text) as unknown) : {};
      if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error('not a JSON object');
      return new ConfigFile(path, data as Record<string, unknown>, true);
    } catch (err) {
      throw new InvalidParameter('config.invalid', `loading config file: ${path}: ${(err as Error).message}`);
    }
  }

  get currentContext(): string {
    const v = this.data.currentContext;
    return typeof v === 'string' ? v : '';
  }

  /** '' clears it (the field is dropped, as docker's omitempty does). */
  async setCurrentContext(name: string): Promise<void> {
    if (name) this.data.currentContext = name;
    else delete this.data.currentContext;
    await this.save();
  }

  /** Stored credentials for a registry key (`localhost:5000`, `https://index.docker.io/v1/`). */
  auth(key: string): { auth?: string; identitytoken?: string } | undefined {
    const auths = this.data.auths;
    if (!auths || typeof auths !== 'object') return undefined;
    const entry = (auths as Record<string, unknown>)[key];
    return entry && typeof entry === 'object' ? (entry as { auth?: string; identitytoken?: string }) : undefined;
  }

  /** Sets (or with `undefined`, removes) a registry's credentials, as `docker login` / `logout` do. */
  async setAuth(key: string, entry: { auth?: string; identitytoken?: string } | undefined): Promise<void> {
    const auths = { ...((this.data.auths && typeof this.data.auths === 'object' ? this.data.auths : {}) as Record<string, unknown>) };
    if (entry) auths[key] = entry;
    else delete auths[key];
    this.data.auths = auths;
    await this.save();
  }

  private async save(): Promise<void> {
    const out = this.existed ? this.data : { auths: {}, ...this.data };
    await mkdir(join(this.path, '..'), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path, JSON.stringify(out, null, '\t'), 0o600);
  }
}
