/**
 * `--change` instructions of import and commit (a Dockerfile subset applied
 * to an image's container config): CMD ENTRYPOINT ENV EXPOSE LABEL ONBUILD
 * STOPSIGNAL USER VOLUME WORKDIR. Pure.
 */
import { InvalidParameter } from '../../errdefs/index.js';
import type { ContainerDefaults } from '../../oci/image.js';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

/** `["a","b"]` stays a list; anything else is the shell form. */
function jsonOrShell(arg: string): string[] {
  const t = arg.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      // not JSON: shell form, as docker does
    }
  }
  return ['/bin/sh', '-c', t];
}

function jsonOrWords(arg: string): string[] {
  const t = arg.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v)) return v.map(String);
    } catch {
      // fall through
    }
  }
  return t.split(/\s+/).filter(Boolean);
}

function unquote(s: string): string {
  if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))) {
    return s.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return s.replace(/\\(.)/g, '$1');
}

/** Splits `a=1 b="two words"` into pairs; the legacy `KEY value` form too. */
export function keyValues(arg: string, instruction: string): [string, string][] {
  const t = arg.trim();
  const tokens = t.match(/(?:[^\s"']+|"(?:\\.|[^"\\])*"|'[^']*')+/g) ?? [];
  if (tokens.length && !tokens[0]!.includes('=')) {
    const sp = t.search(/\s/);
    if (sp === -1) throw new InvalidParameter('image.invalid_change', `${instruction} requires at least one argument`);
    return [[tokens[0]!, unquote(t.slice(sp).trim())]];
  }
  return tokens.map((tok) => {
    const eq = tok.indexOf('=');
    if (eq <= 0) throw new InvalidParameter('image.invalid_change', `${instruction} names can not be blank`);
    return [unquote(tok.slice(0, eq)), unquote(tok.slice(eq + 1))];
  });
}

export function applyChanges(base: ContainerDefaults, changes: string[]): ContainerDefaults {
  const c: ContainerDefaults = { ...base };
  for (const line of changes) {
    const m = /^\s*(\S+)\s*(.*)$/s.exec(line);
    if (!m) continue;
    const instr = m[1]!.toUpperCase();
    const arg = m[2]!;
    if (!ALLOWED.includes(instr)) {
      throw new InvalidParameter('image.invalid_change', `${m[1]} is not a valid change command`);
    }
    switch (instr) {
      case 'CMD': c.Cmd = jsonOrShell(arg); break;
      case 'ENTRYPOINT': c.Entrypoint = jsonOrShell(arg); break;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of keyValues(arg, 'ENV')) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL': c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(keyValues(arg, 'LABEL')) }; break;
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of jsonOrWords(arg)) ports[p.includes('/') ? p : `${p}/tcp`] = {};
        c.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        for (const v of jsonOrWords(arg)) vols[v] = {};
        c.Volumes = vols;
        break;
      }
      case 'USER': c.User = arg.trim(); break;
      case 'WORKDIR': c.WorkingDir = arg.trim(); break;
      case 'STOPSIGNAL': c.StopSignal = arg.trim(); break;
      case 'ONBUILD': c.OnBuild = [...(c.OnBuild ?? []), arg.trim()]; break;
    }
  }
  return c;
}
