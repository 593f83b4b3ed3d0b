// Literals in templates: strings and characters with Go's escapes
// (strconv.Unquote) and numbers with Go's syntax (strconv.ParseInt with
// base 0, ParseFloat, character constants).

import { quote } from './template-strconv.js';
import type { NumberNode } from './template-ast.js';
import type { TokenType } from './template-lex.js';

/** Thrown inside the parser; carries the message without the "template: name:line:" prefix. */
export class ParseFailure {
  constructor(readonly message: string) {}
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };

const decoder = new TextDecoder();

/**
 * strconv.UnquoteChar: one possibly escaped character of a quoted literal.
 * Returns [value, isByte, rest] where isByte marks \x and octal escapes,
 * which denote raw bytes rather than code points.
 */
export function unquoteChar(s: string, i: number, q: string): [value: number, isByte: boolean, next: number] | null {
  const c = s.codePointAt(i);
  if (c === undefined) return null;
  if (String.fromCodePoint(c) === q && (q === "'" || q === '"')) return null;
  if (c !== 0x5c) return [c, false, i + (c > 0xffff ? 2 : 1)];
  const e = s[i + 1];
  if (e === undefined) return null;
  if (e in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[e], false, i + 2];
  const hexDigits = (n: number): number | null => {
    const h = s.slice(i + 2, i + 2 + n);
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) return null;
    return parseInt(h, 16);
  };
  switch (e) {
    case 'x': {
      const v = hexDigits(2);
      return v === null ? null : [v, true, i + 4];
    }
    case 'u':
    case 'U': {
      const n = e === 'u' ? 4 : 8;
      const v = hexDigits(n);
      if (v === null || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null;
      return [v, false, i + 2 + n];
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      const o = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(o)) return null;
      const v = parseInt(o, 8);
      return v > 255 ? null : [v, true, i + 4];
    }
    case "'":
    case '"':
      if (e !== q) return null;
      return [e.charCodeAt(0), false, i + 2];
  }
  return null;
}

/** strconv.Unquote for "..." and `...` literals; null on invalid syntax. */
export function unquote(lit: string): string | null {
  if (lit.length < 2) return null;
  const q = lit[0];
  if (lit[lit.length - 1] !== q) return null;
  const body = lit.slice(1, -1);
  if (q === '`') return body.includes('`') ? null : body.replaceAll('\r', '');
  if (q !== '"') return null;
  if (!body.includes('\\')) return body.includes('"') ? null : body;
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) {
      out += decoder.decode(new Uint8Array(bytes));
      bytes = [];
    }
  };
  for (let i = 0; i < body.length; ) {
    const r = unquoteChar(body, i, q);
    if (!r) return null;
    const [v, isByte, next] = r;
    if (isByte && v >= 0x80) bytes.push(v);
    else {
      flush();
      out += String.fromCodePoint(v);
    }
    i = next;
  }
  flush();
  return out;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Valid use of underscores in a number literal, per Go's underscoreOK. */
function underscoreOK(s: string): boolean {
  if (!s.includes('_')) return true;
  let i = 0;
  if (s[0] === '+' || s[0] === '-') i++;
  let saw = '^'; // ^ start, 0 digit or prefix, _ underscore, ! other
  let hex = false;
  if (s.length - i >= 2 && s[i] === '0' && 'bBoOxX'.includes(s[i + 1])) {
    hex = s[i + 1] === 'x' || s[i + 1] === 'X';
    i += 2;
    saw = '0';
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseInt(s, 0, 64)-style parsing into a bigint, or null. */
function parseGoInt(text: string): bigint | null {
  if (!underscoreOK(text)) return null;
  let s = text.replaceAll('_', '');
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let base = 10;
  if (/^0[xX]/.test(s)) {
    base = 16;
    s = s.slice(2);
  } else if (/^0[oO]/.test(s)) {
    base = 8;
    s = s.slice(2);
  } else if (/^0[bB]/.test(s)) {
    base = 2;
    s = s.slice(2);
  } else if (s.length > 1 && s[0] === '0') {
    base = 8;
    s = s.slice(1);
  }
  const re = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!re.test(s)) return null;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  const v = BigInt(prefix + s);
  return neg ? -v : v;
}

/** strconv.ParseFloat(s, 64) for decimal and hexadecimal literals, or null. */
function parseGoFloat(text: string): number | null {
  if (!underscoreOK(text)) return null;
  const s = text.replaceAll('_', '');
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/.exec(s);
  if (hex) {
    const [, sign, int, frac = '', exp] = hex;
    if (int === '' && frac === '') return null;
    const mant = Number(BigInt('0x' + (int + frac || '0')));
    const v = mant * 2 ** (Number(exp) - 4 * frac.length);
    return sign === '-' ? -v : v;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  return Number(s);
}

export function newNumber(pos: number, text: string, typ: TokenType): NumberNode {
  const n: NumberNode = { type: 'number', pos, text, isInt: false, isUint: false, isFloat: false, int: 0, float: 0 };
  if (typ === 'charConstant') {
    const r = unquoteChar(text, 1, "'");
    if (!r || r[2] !== text.length - 1) {
      if (r && text[r[2]] !== "'") throw new ParseFailure(`malformed character constant: ${text}`);
      throw new ParseFailure('invalid syntax');
    }
    n.isInt = n.isUint = n.isFloat = true;
    n.int = r[0];
    n.float = r[0];
    return n;
  }
  if (typ === 'complex' || text.endsWith('i')) throw new ParseFailure(`complex numbers are not supported: ${quote(text)}`);
  const i = parseGoInt(text);
  if (i !== null) {
    if (i >= 0n && i <= UINT64_MAX) n.isUint = true;
    if (i >= INT64_MIN && i <= INT64_MAX) {
      n.isInt = true;
      n.int = i >= BigInt(Number.MIN_SAFE_INTEGER) && i <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(i) : i;
    }
  }
  if (n.isInt || n.isUint) {
    n.isFloat = true;
    n.float = Number(i);
  } else {
    const f = parseGoFloat(text);
    if (f !== null) {
      // Looks like an integer but did not fit: Go calls that overflow.
      if (!/[.eEpP]/.test(text)) throw new ParseFailure(`integer overflow: ${quote(text)}`);
      n.isFloat = true;
      n.float = f;
      if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
        n.isInt = true;
        n.int = Number.isSafeInteger(f) ? f : BigInt(f);
      }
      if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) n.isUint = true;
    }
  }
  if (!n.isInt && !n.isUint && !n.isFloat) throw new ParseFailure(`illegal number syntax: ${quote(text)}`);
  return n;
}
