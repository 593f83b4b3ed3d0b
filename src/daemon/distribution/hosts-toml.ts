/**
 * containerd's registry host configuration, `<dir>/<registry>/hosts.toml`:
 *
 * ```toml
 * server = "https://registry.k8s.io"          # the upstream (default: the registry's own)
 *
 * [host."http://127.0.0.1:5000"]              # tried first, in file order
 *   capabilities = ["pull", "resolve"]
 *   skip_verify = true                        # HTTPS without certificate checks
 *   ca = "/etc/berth/certs.d/mirror-ca.crt"   # or a list; relative to the file's directory
 *   override_path = true                      # the URL is the API root (no /v2 appended)
 * ```
 *
 * Only this subset of TOML is read (tables with quoted keys, strings,
 * booleans, arrays of strings, comments); other keys are ignored as
 * containerd ignores what it does not know. Pure: text in, data out.
 */
import { isAbsolute, join } from 'node:path';
import { InvalidParameter } from '../../errdefs/index.js';

export interface HostEntry {
  /** `scheme://host[:port][/path]`, no trailing slash. */
  url: string;
  capabilities: string[];
  skipVerify: boolean;
  /** CA certificate files, absolute. */
  ca: string[];
  overridePath: boolean;
}

export interface HostsFile {
  server?: string;
  hosts: HostEntry[];
}

type Value = string | boolean | string[];

/** containerd's default capabilities of a `[host]` that names none. */
const DEFAULT_CAPABILITIES = ['pull', 'resolve', 'push'];

/** Parses hosts.toml; `dir` (the file's directory) anchors relative `ca` paths. */
export function parseHostsToml(text: string, dir: string): HostsFile {
  const top = new Map<string, Value>();
  const tables: { url: string; keys: Map<string, Value> }[] = [];
  let current = top;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = stripComment(raw).trim();
    if (!line) return;
    const bad = (why: string) => new InvalidParameter('registry.hosts_toml', `hosts.toml in ${dir}, line ${i + 1}: ${why}`);
    const table = /^\[\s*host\s*\.\s*"([^"]+)"\s*\]$/.exec(line);
    if (table) {
      const keys = new Map<string, Value>();
      tables.push({ url: table[1]!.replace(/\/+$/, ''), keys });
      current = keys;
      return;
    }
    if (line.startsWith('[')) {
      current = new Map(); // a table berth does not use (e.g. [host."x".header]): read and dropped
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw bad(`expected key = value, got ${JSON.stringify(raw.trim())}`);
    const key = line.slice(0, eq).trim().replace(/^"(.*)"$/, '$1');
    current.set(key, parseValue(line.slice(eq + 1).trim(), bad));
  });
  const str = (m: Map<string, Value>, k: string) => (typeof m.get(k) === 'string' ? (m.get(k) as string) : undefined);
  const server = str(top, 'server');
  return {
    ...(server ? { server: server.replace(/\/+$/, '') } : {}),
    hosts: tables.map(({ url, keys }) => {
      const caps = keys.get('capabilities');
      const ca = keys.get('ca');
      return {
        url,
        capabilities: Array.isArray(caps) ? caps : DEFAULT_CAPABILITIES,
        skipVerify: keys.get('skip_verify') === true,
        ca: (typeof ca === 'string' ? [ca] : Array.isArray(ca) ? ca : []).map((p) => (isAbsolute(p) ? p : join(dir, p))),
        overridePath: keys.get('override_path') === true,
      };
    }),
  };
}

function parseValue(v: string, bad: (why: string) => Error): Value {
  if (v === 'true' || v === 'false') return v === 'true';
  if (v.startsWith('"') || v.startsWith("'")) return parseString(v, bad);
  if (v.startsWith('[')) {
    if (!v.endsWith(']')) throw bad('an array must close on the same line');
    const items = v.slice(1, -1).match(/"(?:[^"\\]|\\.)*"|'[^']*'|[^,\s][^,]*/g) ?? [];
    return items.map((s) => parseString(s.trim(), bad));
  }
  throw bad(`unsupported value ${v}`);
}

function parseString(v: string, bad: (why: string) => Error): string {
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      throw bad(`bad string ${v}`);
    }
  }
  throw bad(`expected a string, got ${v}`);
}

/** Drops a `#` comment that is not inside a string. */
function stripComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}
