/**
 * The Dockerfile parser of Docker's classic builder, with BuildKit's
 * grammar on top: parser directives (`# escape`, `# syntax`, `# check`),
 * comments, line continuations, `--flags` (repeatable ones kept in order),
 * heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`) for RUN, COPY and ADD, and the
 * JSON (exec) or shell form of arguments. Pure: text in, instructions out,
 * or a DockerfileError naming the line.
 */
import { InvalidParameter } from '../../errdefs/index.js';

export interface Instruction {
  /** Lower case: `from`, `run`, `copy`… */
  cmd: string;
  /** `--name=value` flags given before the arguments (the last value of a repeated one). */
  flags: Record<string, string>;
  /** Every value of each flag, in order (`--mount` and `--exclude` repeat). */
  flagList: Record<string, string[]>;
  /** Heredocs of RUN, COPY and ADD, in the order their markers appear. */
  heredocs?: Heredoc[];
  /** The arguments after the flags, as written (continuations joined). */
  rest: string;
  /** Exec form: the JSON array, when the arguments are one. */
  json?: string[];
  /** 1-based line of the instruction. */
  line: number;
  /** The instruction as `Step N/M :` shows it. */
  original: string;
}

/** One `<<NAME` body: `content` ends with a newline; tabs are already stripped for `<<-`. */
export interface Heredoc {
  name: string;
  content: string;
  /** The body as written (a shell reading it handles `<<-` itself). */
  raw: string;
  /** Unquoted terminator: the body takes ARG/ENV substitution (COPY) as BuildKit does. */
  expand: boolean;
  chomp: boolean;
}

export interface Dockerfile {
  instructions: Instruction[];
  escape: string;
  /** `# check=` was given: accepted and ignored (berth runs no build checks). */
  checkDirective?: string;
}

/**
 * `# syntax=` names a frontend image; berth's own parser is the built-in
 * docker/dockerfile:1 frontend, so that channel (any 1.x, and -labs) is
 * accepted and anything else is refused rather than silently ignored.
 */
const BUILTIN_SYNTAX = /^(?:docker\.io\/)?docker\/dockerfile(?:-upstream)?(?::1(?:\.\d+){0,2}(?:-labs)?|:labs|:latest)?(?:@sha256:[a-f0-9]{64})?$/;

export class UnsupportedFrontendError extends InvalidParameter {
  constructor(ref: string) {
    super('build.unsupported_frontend', `unsupported Dockerfile frontend "${ref}": berth builds with its built-in docker/dockerfile:1 frontend and does not run frontend images`);
  }
}

export class DockerfileError extends InvalidParameter {
  constructor(line: number, message: string) {
    super('build.dockerfile_parse', `dockerfile parse error line ${line}: ${message}`);
  }
}

export const INSTRUCTIONS = new Set([
  'from', 'run', 'cmd', 'entrypoint', 'env', 'arg', 'label', 'expose', 'copy', 'add', 'workdir', 'user', 'volume',
  'stopsignal', 'healthcheck', 'onbuild', 'shell', 'maintainer',
]);

/** Instructions whose arguments may be a JSON array. */
const JSON_FORM = new Set(['run', 'cmd', 'entrypoint', 'shell', 'volume', 'copy', 'add']);
const FLAGGED = new Set(['from', 'run', 'copy', 'add', 'healthcheck']);
/** The flags each instruction takes (BuildKit's set); any other is an error, as in BuildKit. */
const KNOWN_FLAGS: Record<string, string[]> = {
  from: ['platform'],
  run: ['mount', 'network', 'security'],
  copy: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
  add: ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir', 'exclude', 'unpack'],
  healthcheck: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  let checkDirective: string | undefined;
  let i = 0;
  // parser directives: only at the very top, before any other line
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new DockerfileError(i + 1, `invalid escape token '${m[2]}' does not match ` + '` or \\');
      escape = m[2]!;
    } else if (key === 'syntax') {
      if (!BUILTIN_SYNTAX.test(m[2]!)) throw new UnsupportedFrontendError(m[2]!);
    } else if (key === 'check') checkDirective = m[2]!;
    else break;
  }
  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const start = i;
    let line = lines[i++]!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    let joined = '';
    // continuation: a line ending with the escape character goes on; comments and blank lines inside are skipped
    while (true) {
      const t = line.replace(/\s+$/, '');
      if (t.endsWith(escape) && !t.endsWith(escape + escape)) {
        joined += t.slice(0, -1);
        let next: string | undefined;
        while (i < lines.length) {
          next = lines[i++]!;
          if (next.trim() === '' || next.trim().startsWith('#')) {
            next = undefined;
            continue;
          }
          break;
        }
        if (next === undefined) break;
        line = next;
        continue;
      }
      joined += t;
      break;
    }
    // a continuation that ran into the end of the file or only blank lines leaves nothing
    if (joined.trim() === '') continue;
    const ins = parseInstruction(joined.trim(), start + 1);
    const markers = HEREDOC_INSTRUCTIONS.has(ins.cmd) && !ins.json ? heredocMarkers(ins.rest) : [];
    if (markers.length) {
      ins.heredocs = [];
      // the bodies follow the instruction's line, one after the other
      for (const mk of markers) {
        const body: string[] = [];
        for (;;) {
          if (i >= lines.length) throw new DockerfileError(start + 1, `unterminated heredoc ${mk.name}`);
          const l = lines[i++]!;
          if ((mk.chomp ? l.replace(/^\t+/, '') : l) === mk.name) break;
          body.push(l);
        }
        const raw = body.map((l) => `${l}\n`).join('');
        const content = mk.chomp ? body.map((l) => `${l.replace(/^\t+/, '')}\n`).join('') : raw;
        ins.heredocs.push({ ...mk, raw, content });
      }
    }
    instructions.push(ins);
  }
  return { instructions, escape, ...(checkDirective !== undefined ? { checkDirective } : {}) };
}

const HEREDOC_INSTRUCTIONS = new Set(['run', 'copy', 'add']);

/**
 * BuildKit's heredoc words: a whole word `[n]<<[-]NAME`, NAME optionally
 * quoted (then no substitution). `$((1<<2))` or `a<<b` are not heredocs.
 */
export function heredocMarkers(rest: string): { name: string; expand: boolean; chomp: boolean; word: string }[] {
  const out: { name: string; expand: boolean; chomp: boolean; word: string }[] = [];
  for (const word of splitWords(rest)) {
    const m = /^\d*<<(-?)(.+)$/.exec(word);
    if (!m || m[2]!.startsWith('<')) continue;
    const name = unquote(m[2]!);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) continue;
    out.push({ name, expand: !/["']/.test(m[2]!), chomp: m[1] === '-', word });
  }
  return out;
}

function parseInstruction(text: string, line: number): Instruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(text)!;
  const cmd = m[1]!.toLowerCase();
  if (!INSTRUCTIONS.has(cmd)) throw new DockerfileError(line, `unknown instruction: ${m[1]!.toUpperCase()}`);
  let rest = m[2]!;
  const flags: Record<string, string> = {};
  const flagList: Record<string, string[]> = {};
  if (FLAGGED.has(cmd)) {
    for (let f = /^--([a-zA-Z][\w-]*)(?:=(\S*))?\s*/.exec(rest); f; f = /^--([a-zA-Z][\w-]*)(?:=(\S*))?\s*/.exec(rest)) {
      const name = f[1]!.toLowerCase();
      flags[name] = f[2] ?? 'true';
      (flagList[name] ??= []).push(f[2] ?? 'true');
      rest = rest.slice(f[0].length);
    }
    const known = KNOWN_FLAGS[cmd];
    for (const name of Object.keys(flags)) if (known && !known.includes(name)) throw new DockerfileError(line, `unknown flag: ${name}`);
  }
  const ins: Instruction = { cmd, flags, flagList, rest, line, original: text };
  if (JSON_FORM.has(cmd) && rest.startsWith('[')) {
    try {
      const parsed = JSON.parse(rest) as unknown;
      if (Array.isArray(parsed) && parsed.every((s) => typeof s === 'string')) ins.json = parsed;
    } catch {
      // not JSON: the shell form, as Docker falls back
    }
  }
  if (rest === '' && !['cmd', 'entrypoint'].includes(cmd)) {
    throw new DockerfileError(line, `${cmd.toUpperCase()} requires at least one argument`);
  }
  return ins;
}

/** `ENV a=1 b="two words"` or the legacy `ENV a one value`; also LABEL and ARG pairs. */
export function parseKeyValues(rest: string, cmd: string, line: number, legacy = true): [string, string][] {
  const words = splitWords(rest);
  if (words.length === 0) throw new DockerfileError(line, `${cmd.toUpperCase()} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    if (!legacy) throw new DockerfileError(line, `${cmd.toUpperCase()} names can not be blank`);
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest.trim());
    if (!m) throw new DockerfileError(line, `${cmd.toUpperCase()} must have two arguments`);
    return [[m[1]!, unquote(m[2]!.trim())]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new DockerfileError(line, `Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    return [unquote(w.slice(0, eq)), unquote(w.slice(eq + 1))];
  });
}

/** Splits on unquoted whitespace, keeping quotes (unquote removes them). */
export function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let any = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      cur += c;
      if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
      any = true;
    } else if (/\s/.test(c)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
    } else {
      cur += c;
    }
  }
  if (cur || any) out.push(cur);
  return out;
}

/** Removes one level of quotes and backslash escapes, as Docker's word processing does. */
export function unquote(s: string): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"' && i + 1 < s.length && '"\\$'.includes(s[i + 1]!)) out += s[++i];
      else out += c;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '\\' && i + 1 < s.length) out += s[++i];
    else out += c;
  }
  return out;
}
