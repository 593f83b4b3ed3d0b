/**
 * Finding a legacy plugin by name, as Docker does (pkg/plugins/discovery.go):
 *
 *   <socket dir>/NAME.sock            → unix://<socket dir>/NAME.sock
 *   <socket dir>/NAME/NAME.sock
 *   <spec dir>/NAME.spec              → one URL: unix:///path.sock, tcp://host:port, https://host:port
 *   <spec dir>/NAME.json              → {"Name", "Addr", "TLSConfig": {InsecureSkipVerify, CAFile, CertFile, KeyFile}}
 *   <spec dir>/NAME/NAME.{spec,json}
 *
 * Sockets win over spec files; spec directories are tried in order
 * (Docker's: /run/docker/plugins, then /etc/docker/plugins, /usr/lib/docker/plugins).
 * Parsing is pure (parseSpecFile, parseJsonSpec); only PluginLocator reads the disk.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter } from '../../errdefs/index.js';

export interface PluginTls {
  insecureSkipVerify: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Where a plugin listens. `addr` is a URL: unix://, tcp:// or http:// (plain HTTP), https:// (TLS). */
export interface PluginSpec {
  name: string;
  addr: string;
  tls?: PluginTls;
}

export interface PluginDirs {
  socketDir: string;
  specDirs: string[];
}

const SCHEMES = new Set(['unix:', 'tcp:', 'http:', 'https:']);
const SPEC_EXTENSIONS = ['.spec', '.json'];

/** A name that cannot leave the plugin directories (no separators, no dot-names). */
export function isPluginName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !name.startsWith('.') && !/[/\\\0]/.test(name);
}

function checkAddr(name: string, addr: string): string {
  let url: URL;
  try {
    url = new URL(addr);
  } catch {
    throw new InvalidParameter('plugin.invalid_spec', `plugin ${name}: Unknown protocol: "${addr}"`);
  }
  if (!SCHEMES.has(url.protocol)) throw new InvalidParameter('plugin.invalid_spec', `plugin ${name}: unsupported protocol: "${url.protocol.slice(0, -1)}"`);
  // http(s) may leave out a default port (URL drops it); tcp has none
  if (url.protocol === 'unix:' ? !url.pathname || url.pathname === '/' : !url.hostname || (url.protocol === 'tcp:' && !url.port)) {
    throw new InvalidParameter('plugin.invalid_spec', `plugin ${name}: incomplete address: "${addr}"`);
  }
  return addr;
}

/** A `.spec` file: one URL, surrounding whitespace ignored. */
export function parseSpecFile(name: string, text: string): PluginSpec {
  const addr = text.trim();
  if (!addr) throw new InvalidParameter('plugin.invalid_spec', `plugin ${name}: Unknown protocol: ""`);
  // Docker's local plugins skip verification unless a .json file says otherwise
  return { name, addr: checkAddr(name, addr), tls: { insecureSkipVerify: true } };
}

/** A `.json` file: Docker's Plugin struct. The name is the file's, not the `Name` inside. */
export function parseJsonSpec(name: string, text: string): PluginSpec {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidParameter('plugin.invalid_spec', `plugin ${name}: invalid JSON spec: ${(err as Error).message}`);
  }
  const o = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  if (typeof o.Addr !== 'string') throw new InvalidParameter('plugin.invalid_spec', `plugin ${name}: the JSON spec has no "Addr"`);
  const spec: PluginSpec = { name, addr: checkAddr(name, o.Addr.trim()) };
  const t = o.TLSConfig;
  if (t && typeof t === 'object') {
    const tc = t as Record<string, unknown>;
    const str = (k: string) => (typeof tc[k] === 'string' && tc[k] ? (tc[k] as string) : undefined);
    const caFile = str('CAFile');
    const certFile = str('CertFile');
    const keyFile = str('KeyFile');
    spec.tls = {
      // as moby: without a CA there is nothing to verify against
      insecureSkipVerify: tc.InsecureSkipVerify === true || !caFile,
      ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}),
    };
  }
  return spec;
}

async function isSocket(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isSocket(), () => false);
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw err;
  }
}

export class PluginLocator {
  constructor(private readonly dirs: PluginDirs) {}

  /** The plugin's address, or undefined when no socket or spec file of that name exists. */
  async find(name: string): Promise<PluginSpec | undefined> {
    if (!isPluginName(name)) return undefined;
    for (const sock of [join(this.dirs.socketDir, `${name}.sock`), join(this.dirs.socketDir, name, `${name}.sock`)]) {
      if (await isSocket(sock)) return { name, addr: `unix://${sock}` };
    }
    for (const dir of this.dirs.specDirs) {
      for (const base of [join(dir, name), join(dir, name, name)]) {
        for (const ext of SPEC_EXTENSIONS) {
          const text = await readIfExists(base + ext);
          if (text === undefined) continue;
          return ext === '.json' ? parseJsonSpec(name, text) : parseSpecFile(name, text);
        }
      }
    }
    return undefined;
  }

  /** Names of every plugin the directories hold (for `volume ls`, which asks every volume plugin). */
  async scan(): Promise<string[]> {
    const names = new Set<string>();
    const entries = async (dir: string) => readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of await entries(this.dirs.socketDir)) {
      if (e.name.endsWith('.sock') && !e.isDirectory()) names.add(e.name.slice(0, -'.sock'.length));
      else if (e.isDirectory() && (await isSocket(join(this.dirs.socketDir, e.name, `${e.name}.sock`)))) names.add(e.name);
    }
    for (const dir of this.dirs.specDirs) {
      for (const e of await entries(dir)) {
        const ext = SPEC_EXTENSIONS.find((x) => e.name.endsWith(x));
        if (ext && !e.isDirectory()) names.add(e.name.slice(0, -ext.length));
        else if (e.isDirectory()) names.add(e.name);
      }
    }
    return [...names].filter(isPluginName).sort();
  }
}
