// Go's encoding/json output for template data: docker's `json` template
// function, `--format json`, and the indented `docker inspect` output.
//
// Differences from JSON.stringify that show in docker's output: Go escapes
// U+2028/U+2029 always and <, >, & unless HTML escaping is off; control
// characters use lowercase \u00xx; floats switch to exponent form below 1e-6
// (as "1e-07" cleaned to "1e-7"); NaN and infinities are errors.

import { formatFloat } from './template-strconv.js';
import { GoFloat, compareStrings, fieldNames, isExported, structInfo } from './template-value.js';

export class JsonError extends Error {}

export interface JsonOptions {
  /** Escape <, > and & as \u003c, \u003e, \u0026 (json.Marshal does; docker's `json` function does not). */
  escapeHTML?: boolean;
  /** Indent nested values by this string per level, one element per line (json.MarshalIndent). */
  indent?: string;
}

const HEX = '0123456789abcdef';

/** A JSON string literal as Go's encoder writes it. */
export function jsonString(s: string, escapeHTML: boolean): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20) {
      switch (c) {
        case 0x08:
          esc = '\\b';
          break;
        case 0x0c:
          esc = '\\f';
          break;
        case 0x0a:
          esc = '\\n';
          break;
        case 0x0d:
          esc = '\\r';
          break;
        case 0x09:
          esc = '\\t';
          break;
        default:
          esc = '\\u00' + HEX[c >> 4] + HEX[c & 0xf];
      }
    } else if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (escapeHTML && (c === 0x3c || c === 0x3e || c === 0x26)) esc = '\\u00' + HEX[c >> 4] + HEX[c & 0xf];
    else if (c === 0x2028) esc = '\\u2028';
    else if (c === 0x2029) esc = '\\u2029';
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A valid surrogate pair passes through; a lone one is invalid UTF-8.
      const pair = c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      if (pair) {
        i++;
        continue;
      }
      esc = '\\ufffd';
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** A float64 as Go's encoder writes it. */
export function jsonFloat(x: number): string {
  if (!Number.isFinite(x)) throw new JsonError(`json: unsupported value: ${formatFloat(x, 'g', -1)}`);
  const ax = Math.abs(x);
  if (ax !== 0 && (ax < 1e-6 || ax >= 1e21)) {
    let s = formatFloat(x, 'e', -1);
    // Go cleans "e-07" up to "e-7".
    const n = s.length;
    if (n >= 4 && s[n - 4] === 'e' && s[n - 3] === '-' && s[n - 2] === '0') s = s.slice(0, n - 2) + s[n - 1];
    return s;
  }
  return formatFloat(x, 'f', -1);
}

class Encoder {
  constructor(private readonly indent: string | undefined) {}

  private nl(level: number): string {
    return this.indent === undefined ? '' : '\n' + this.indent.repeat(level);
  }

  encode(v: unknown, level: number, escapeHTML: boolean): string {
    switch (typeof v) {
      case 'undefined':
        return 'null';
      case 'boolean':
        return v ? 'true' : 'false';
      case 'string':
        return jsonString(v, escapeHTML);
      case 'bigint':
        return v.toString();
      case 'number':
        if (Number.isInteger(v)) return Math.abs(v) < 1e21 ? String(v) : BigInt(v).toString();
        return jsonFloat(v);
      case 'function':
        throw new JsonError('json: unsupported type: func()');
      case 'object':
        break;
      default:
        throw new JsonError(`json: unsupported type: ${typeof v}`);
    }
    if (v === null) return 'null';
    if (v instanceof GoFloat) return jsonFloat(v.value);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      let out = '[';
      v.forEach((e, i) => {
        if (i > 0) out += ',';
        out += this.nl(level + 1) + this.encode(e, level + 1, escapeHTML);
      });
      return out + this.nl(level) + ']';
    }
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return this.encode(toJSON.call(v), level, escapeHTML);
    return this.encodeObject(v, level, escapeHTML);
  }

  private encodeObject(o: object, level: number, escapeHTML: boolean): string {
    const info = structInfo(o);
    let keys = fieldNames(o);
    if (info?.context) {
      // docker's formatter contexts marshal themselves through json.Marshal of
      // a map of their exported methods: sorted keys, HTML-escaped.
      keys = keys.filter(isExported).sort(compareStrings);
      escapeHTML = true;
    }
    const rec = o as Record<string, unknown>;
    let out = '{';
    let n = 0;
    for (const k of keys) {
      let val = rec[k];
      if (typeof val === 'function') {
        // Methods with arguments (.Label "x") are not data.
        if (val.length !== 0) continue;
        val = (val as () => unknown).call(o);
      }
      if (val === undefined) continue;
      if (n++ > 0) out += ',';
      out += this.nl(level + 1) + jsonString(k, escapeHTML) + (this.indent === undefined ? ':' : ': ');
      out += this.encode(val, level + 1, escapeHTML);
    }
    if (n === 0) return '{}';
    return out + this.nl(level) + '}';
  }
}

/** Go's json.Marshal / json.MarshalIndent(v, "", indent) of template data. */
export function marshalJSON(v: unknown, opts: JsonOptions = {}): string {
  const escapeHTML = opts.escapeHTML ?? false;
  return new Encoder(opts.indent).encode(v, 0, escapeHTML);
}
