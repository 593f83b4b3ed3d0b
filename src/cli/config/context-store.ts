/**
 * Contexts stored as the docker CLI stores them, so both CLIs share them:
 *
 *   <config dir>/contexts/meta/<sha256(name)>/meta.json
 *       {"Name":"remote","Metadata":{"Description":"..."},
 *        "Endpoints":{"docker":{"Host":"tcp://h:2376","SkipTLSVerify":false}}}
 *   <config dir>/contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem   (dir 0700, files 0600)
 *
 * Fields berth does not know (other endpoints, extra metadata) are kept.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter, NotFound } from '../../errdefs/index.js';
import { writeFileAtomic } from '../../lib/atomic-file.js';

export const DEFAULT_CONTEXT = 'default';
export const DOCKER_ENDPOINT = 'docker';
const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$/;
const TLS_FILES = ['ca.pem', 'cert.pem', 'key.pem'] as const;

export interface DockerEndpointMeta {
  Host?: string;
  SkipTLSVerify: boolean;
  [extra: string]: unknown;
}

export interface ContextMeta {
  Name: string;
  Metadata: { Description?: string; [extra: string]: unknown };
  Endpoints: { docker?: DockerEndpointMeta; [endpoint: string]: unknown };
}

/** PEM bytes of one endpoint, by file (ca.pem, cert.pem, key.pem). */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export function validateContextName(name: string): void {
  if (!name) throw new InvalidParameter('context.invalid_name', 'context name cannot be empty');
  if (name === DEFAULT_CONTEXT) throw new InvalidParameter('context.invalid_name', '"default" is a reserved context name');
  if (!VALID_NAME.test(name)) {
    throw new InvalidParameter('context.invalid_name', `context name "${name}" is invalid, names are validated against regexp "${VALID_NAME.source}"`);
  }
}

export function contextDirName(name: string): string {
  // crypto loaded on use: most CLI runs never name a context
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(name).digest('hex');
}

export class ContextStore {
  readonly metaRoot: string;
  readonly tlsRoot: string;

  constructor(configDir: string) {
    this.metaRoot = join(configDir, 'contexts', 'meta');
    this.tlsRoot = join(configDir, 'contexts', 'tls');
  }

  storageInfo(name: string): { MetadataPath: string; TLSPath: string } {
    return { MetadataPath: join(this.metaRoot, contextDirName(name)), TLSPath: join(this.tlsRoot, contextDirName(name)) };
  }

  async get(name: string): Promise<ContextMeta> {
    const file = join(this.storageInfo(name).MetadataPath, 'meta.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NotFound('context.not_found', `context "${name}": context not found: open ${file}: no such file or directory`);
      }
      throw err;
    }
    try {
      return normalize(JSON.parse(text) as Partial<ContextMeta>);
    } catch (err) {
      throw new InvalidParameter('context.invalid_meta', `context "${name}": parsing ${file}: ${(err as Error).message}`);
    }
  }

  async exists(name: string): Promise<boolean> {
    return stat(join(this.storageInfo(name).MetadataPath, 'meta.json')).then(() => true, () => false);
  }

  async list(): Promise<ContextMeta[]> {
    let dirs: string[];
    try {
      dirs = await readdir(this.metaRoot);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ContextMeta[] = [];
    for (const d of dirs) {
      try {
        out.push(normalize(JSON.parse(await readFile(join(this.metaRoot, d, 'meta.json'), 'utf8')) as Partial<ContextMeta>));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
        throw new InvalidParameter('context.invalid_meta', `failed to read metadata: ${(err as Error).message}`);
      }
    }
    return out.sort((a, b) => naturalCompare(a.Name, b.Name));
  }

  /** Writes the metadata, and replaces the endpoint's TLS files with `tls` (none: removes them). */
  async save(meta: ContextMeta, tls: TlsMaterial | undefined): Promise<void> {
    const { MetadataPath, TLSPath } = this.storageInfo(meta.Name);
    await mkdir(MetadataPath, { recursive: true, mode: 0o755 });
    await writeFileAtomic(join(MetadataPath, 'meta.json'), JSON.stringify(serialize(meta)), 0o644);
    const endpointDir = join(TLSPath, DOCKER_ENDPOINT);
    await rm(endpointDir, { recursive: true, force: true });
    const files = tls ? TLS_FILES.filter((f) => tls[fileKey(f)]) : [];
    if (!files.length) return;
    await mkdir(endpointDir, { recursive: true, mode: 0o700 });
    for (const f of files) await writeFileAtomic(join(endpointDir, f), tls![fileKey(f)]!, 0o600);
  }

  async remove(name: string): Promise<void> {
    const { MetadataPath, TLSPath } = this.storageInfo(name);
    await rm(MetadataPath, { recursive: true, force: true });
    await rm(TLSPath, { recursive: true, force: true });
  }

  /** The TLS files per endpoint (what `context inspect` shows as TLSMaterial). */
  async tlsListing(name: string): Promise<Record<string, string[]>> {
    const root = this.storageInfo(name).TLSPath;
    const out: Record<string, string[]> = {};
    let endpoints: string[];
    try {
      endpoints = await readdir(root);
    } catch {
      return out;
    }
    for (const ep of endpoints) {
      try {
        out[ep] = (await readdir(join(root, ep), { withFileTypes: true })).filter((e) => !e.isDirectory()).map((e) => e.name);
      } catch {
        // not a directory
      }
    }
    return out;
  }

  async tlsMaterial(name: string, endpoint = DOCKER_ENDPOINT): Promise<TlsMaterial | undefined> {
    const dir = join(this.storageInfo(name).TLSPath, endpoint);
    const out: TlsMaterial = {};
    let any = false;
    for (const f of TLS_FILES) {
      try {
        out[fileKey(f)] = await readFile(join(dir, f));
        any = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
      }
    }
    return any ? out : undefined;
  }
}

function fileKey(f: (typeof TLS_FILES)[number]): keyof TlsMaterial {
  return f === 'ca.pem' ? 'ca' : f === 'cert.pem' ? 'cert' : 'key';
}

function normalize(m: Partial<ContextMeta>): ContextMeta {
  if (!m || typeof m !== 'object' || typeof m.Name !== 'string') throw new Error('not a context');
  return { Name: m.Name, Metadata: m.Metadata && typeof m.Metadata === 'object' ? m.Metadata : {}, Endpoints: m.Endpoints && typeof m.Endpoints === 'object' ? m.Endpoints : {} };
}

/** Go's omitempty: no empty Description; endpoints in docker's field order. */
function serialize(m: ContextMeta): ContextMeta {
  const Metadata = { ...m.Metadata };
  if (!Metadata.Description) delete Metadata.Description;
  return { Name: m.Name, Metadata, Endpoints: m.Endpoints };
}

/** sortorder.NaturalLess: runs of digits compare as numbers, the rest byte by byte. */
export function naturalCompare(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const nx = x.replace(/^0+/, '');
      const ny = y.replace(/^0+/, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      continue;
    }
    return x < y ? -1 : 1;
  }
  return 0;
}
