/**
 * Instructions that only change the image config (ENV, LABEL, CMD,
 * ENTRYPOINT, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, SHELL, HEALTHCHECK,
 * ONBUILD, MAINTAINER). Pure: config in, new config out.
 */
import { posix } from 'node:path';
import type { ContainerDefaults } from '../../oci/image.js';
import { DockerfileError, parseKeyValues, splitWords, type Instruction } from './dockerfile.js';
import { expandWord } from './expand.js';
import { formatGoDuration, parseGoDuration } from '../../lib/go-time.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** The environment variable substitution sees: the config's Env, then ARGs in scope (Env wins). */
export function substitutionEnv(config: ContainerDefaults, args: Map<string, string>): Map<string, string> {
  const env = new Map(args);
  for (const e of config.Env ?? []) {
    const i = e.indexOf('=');
    env.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return env;
}

/** `cmdSet`: a CMD came earlier in this stage, which a new ENTRYPOINT then keeps. */
export function applyMetadata(ins: Instruction, config: ContainerDefaults, args: Map<string, string>, escape: string, cmdSet = false): ContainerDefaults {
  const c: ContainerDefaults = { ...config };
  const env = substitutionEnv(config, args);
  const x = (w: string) => expandWord(w, env, escape);
  switch (ins.cmd) {
    case 'env': {
      const out = [...(c.Env ?? [])];
      for (const [k, v] of parseKeyValues(ins.rest, 'env', ins.line).map(([k, v]) => [x(k), x(v)] as const)) {
        const entry = `${k}=${v}`;
        const at = out.findIndex((e) => e.split('=')[0] === k);
        if (at >= 0) out[at] = entry;
        else out.push(entry);
        // no env.set: Docker expands a whole ENV line against the environment before it (`ENV a=1 b=$a` leaves b empty)
      }
      c.Env = out;
      return c;
    }
    case 'label':
      c.Labels = { ...(c.Labels ?? {}) };
      for (const [k, v] of parseKeyValues(ins.rest, 'label', ins.line)) c.Labels[x(k)] = x(v);
      return c;
    case 'maintainer':
      return c; // only the config's `author`, set by the caller
    case 'cmd':
      c.Cmd = ins.json ?? [...(c.Shell ?? DEFAULT_SHELL), ins.rest];
      c.ArgsEscaped = !ins.json || undefined;
      return c;
    case 'entrypoint':
      c.Entrypoint = ins.json ?? (ins.rest === '' ? null : [...(c.Shell ?? DEFAULT_SHELL), ins.rest]);
      if (!cmdSet) c.Cmd = null; // Docker: a new ENTRYPOINT drops the CMD inherited from the base, not this stage's
      return c;
    case 'expose': {
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const w of splitWords(ins.rest).map(x)) {
        const [port, proto = 'tcp'] = w.split('/');
        if (!/^\d+(-\d+)?$/.test(port ?? '') || !['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) {
          throw new DockerfileError(ins.line, `invalid containerPort: ${w}`);
        }
        c.ExposedPorts[`${port}/${proto.toLowerCase()}`] = {};
      }
      return c;
    }
    case 'volume': {
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of (ins.json ?? splitWords(ins.rest)).map(x)) {
        if (!v) throw new DockerfileError(ins.line, 'VOLUME specified can not be an empty string');
        c.Volumes[v] = {};
      }
      return c;
    }
    case 'user':
      c.User = x(ins.rest.trim());
      return c;
    case 'workdir': {
      const dir = x(ins.rest.trim());
      c.WorkingDir = posix.resolve('/', c.WorkingDir || '/', dir);
      return c;
    }
    case 'stopsignal':
      c.StopSignal = x(ins.rest.trim());
      return c;
    case 'shell':
      if (!ins.json) throw new DockerfileError(ins.line, 'SHELL requires the arguments to be in JSON form');
      c.Shell = ins.json;
      return c;
    case 'onbuild': {
      const inner = /^(\S+)/.exec(ins.rest)?.[1]?.toUpperCase();
      if (inner === 'ONBUILD' || inner === 'FROM' || inner === 'MAINTAINER') throw new DockerfileError(ins.line, `${inner} isn't allowed as an ONBUILD trigger`);
      c.OnBuild = [...(c.OnBuild ?? []), ins.rest];
      return c;
    }
    case 'healthcheck':
      c.Healthcheck = healthcheck(ins);
      return c;
  }
  throw new DockerfileError(ins.line, `${ins.cmd.toUpperCase()} is not a metadata instruction`);
}

function healthcheck(ins: Instruction): ContainerDefaults['Healthcheck'] {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(ins.rest.trim());
  const kind = m?.[1]?.toUpperCase();
  if (kind === 'NONE') return { Test: ['NONE'] };
  if (kind !== 'CMD') throw new DockerfileError(ins.line, 'Unknown type "' + (m?.[1] ?? '') + '" in HEALTHCHECK (try CMD)');
  const rest = m![2]!;
  let test: string[];
  try {
    const j = JSON.parse(rest) as unknown;
    test = Array.isArray(j) ? ['CMD', ...(j as string[])] : ['CMD-SHELL', rest];
  } catch {
    test = ['CMD-SHELL', rest];
  }
  const d = (k: string) => duration(ins.flags[k], ins.line);
  return {
    Test: test,
    ...(ins.flags.interval ? { Interval: d('interval') } : {}),
    ...(ins.flags.timeout ? { Timeout: d('timeout') } : {}),
    ...(ins.flags['start-period'] ? { StartPeriod: d('start-period') } : {}),
    ...(ins.flags.retries ? { Retries: Number(ins.flags.retries) } : {}),
  };
}

/** A HEALTHCHECK flag's Go duration in nanoseconds. */
function duration(s: string | undefined, line: number): number {
  const ns = parseGoDuration(s ?? '');
  if (ns === undefined) throw new DockerfileError(line, `time: invalid duration "${s ?? ''}"`);
  return ns;
}

/** Go's `%q` of a []string: `["a" "b"]`. */
function goQuoted(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).map((s) => JSON.stringify(s)).join(' ')}]`;
}


/**
 * The history comment dockerd's classic builder commits for a metadata
 * step (moby builder/dockerfile/dispatchers.go): values expanded, CMD and
 * ENTRYPOINT as Go prints a string slice with %q, VOLUME and SHELL with %v,
 * WORKDIR resolved, HEALTHCHECK as Go prints the struct.
 */
export function historyComment(ins: Instruction, after: ContainerDefaults, before: ContainerDefaults, args: Map<string, string>, escape: string): string {
  const env = substitutionEnv(before, args);
  const x = (w: string) => expandWord(w, env, escape);
  switch (ins.cmd) {
    case 'env': {
      let out = 'ENV';
      for (const [k, v] of parseKeyValues(ins.rest, 'env', ins.line)) {
        out += ` ${x(k)}=${x(v)}`;
      }
      return out;
    }
    case 'label':
      return `LABEL${parseKeyValues(ins.rest, 'label', ins.line).map(([k, v]) => ` ${x(k)}=${x(v)}`).join('')}`;
    case 'cmd':
      return `CMD ${goQuoted(after.Cmd)}`;
    case 'entrypoint':
      return `ENTRYPOINT ${goQuoted(after.Entrypoint)}`;
    case 'expose':
      return `EXPOSE ${splitWords(ins.rest).map(x).join(' ')}`;
    case 'volume':
      return `VOLUME [${(ins.json ?? splitWords(ins.rest)).map(x).join(' ')}]`;
    case 'user':
      return `USER ${after.User ?? ''}`;
    case 'workdir':
      return `WORKDIR ${after.WorkingDir ?? '/'}`;
    case 'stopsignal':
      return `STOPSIGNAL ${after.StopSignal ?? ''}`;
    case 'shell':
      return `SHELL [${(after.Shell ?? []).join(' ')}]`;
    case 'healthcheck': {
      const h = after.Healthcheck ?? {};
      if (h.Test?.[0] === 'NONE') return `HEALTHCHECK &{${goQuoted(h.Test)} "0s" "0s" "0s" '\\x00'}`;
      const retries = `'\\x${(h.Retries ?? 0).toString(16).padStart(2, '0')}'`;
      return `HEALTHCHECK &{${goQuoted(h.Test)} "${formatGoDuration(h.Interval ?? 0)}" "${formatGoDuration(h.Timeout ?? 0)}" "${formatGoDuration(h.StartPeriod ?? 0)}" ${retries}}`;
    }
    default:
      return ins.original;
  }
}
