/**
 * Docker's word processing for Dockerfile arguments: quotes are removed,
 * `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alternative}` are
 * substituted (not inside single quotes), and the escape character keeps the
 * next one literal.
 */
import { InvalidParameter } from '../../errdefs/index.js';

export function expandWord(s: string, env: Map<string, string>, escape = '\\'): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === escape && quote !== "'" && i + 1 < s.length) {
      const n = s[i + 1]!;
      // in double quotes only a few characters are escapable; elsewhere any
      if (quote === '"' && !'"$`\\'.includes(n) && n !== escape) out += c;
      else i++;
      out += s[i]!;
      continue;
    }
    if (quote === "'") {
      if (c === "'") quote = '';
      else out += c;
      continue;
    }
    if (c === '"') {
      quote = quote === '"' ? '' : '"';
      continue;
    }
    if (c === "'" && !quote) {
      quote = "'";
      continue;
    }
    if (c === '$') {
      const [value, used] = variable(s, i, env);
      out += value;
      i += used - 1;
      continue;
    }
    out += c;
  }
  return out;
}

/** Substitutes one `$…` at `i`; returns the value and how many characters it took. */
function variable(s: string, i: number, env: Map<string, string>): [string, number] {
  if (s[i + 1] === '{') {
    const end = matchingBrace(s, i + 2);
    if (end < 0) throw new InvalidParameter('build.bad_substitution', `failed to process "${s}": missing '}'`);
    const inner = s.slice(i + 2, end);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([\s\S]*))?$/.exec(inner);
    if (!m) throw new InvalidParameter('build.bad_substitution', `failed to process "${s}": unsupported modifier (${inner}) in substitution`);
    const name = m[1]!;
    const set = env.has(name);
    const value = env.get(name) ?? '';
    const word = m[3] !== undefined ? expandWord(m[3], env) : '';
    switch (m[2]) {
      case ':-': return [set && value !== '' ? value : word, end - i + 1];
      case '-': return [set ? value : word, end - i + 1];
      case ':+': return [set && value !== '' ? word : '', end - i + 1];
      case '+': return [set ? word : '', end - i + 1];
      default: return [value, end - i + 1];
    }
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1));
  if (!m) return ['$', 1];
  return [env.get(m[0]) ?? '', m[0].length + 1];
}

function matchingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/**
 * A heredoc body's substitution (COPY <<EOF): variables and `\$` only;
 * quotes are content, as BuildKit's heredoc word processing keeps them.
 */
export function expandHeredoc(s: string, env: Map<string, string>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && (s[i + 1] === '$' || s[i + 1] === '\\')) {
      out += s[++i];
    } else if (c === '$') {
      const [value, used] = variable(s, i, env);
      out += value;
      i += used - 1;
    } else out += c;
  }
  return out;
}
