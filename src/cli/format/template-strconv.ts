// Go's strconv as fmt and encoding/json use it: float formatting (exact
// decimal rounding, shortest round-trip digits, %e/%f/%g/%b/%x forms) and
// string quoting with Go's idea of a printable character.

interface Decimal {
  d: string; // significant digits, no trailing zeros ('' for zero)
  dp: number; // position of the decimal point relative to d
}

const f64 = new DataView(new ArrayBuffer(8));

/** The exact decimal expansion of a finite non-negative double. */
function exactDecimal(x: number): Decimal {
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const lo = f64.getUint32(4);
  let exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  if (mant === 0n) return { d: '', dp: 0 };
  const e2 = exp - 1075; // x = mant * 2^e2
  let digits: string;
  let dp: number;
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e2)).toString();
    dp = digits.length + e2;
  }
  return { d: trimZeros(digits), dp };
}

/** The shortest digits that round-trip (JS and Go agree on these). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const s = x.toExponential();
  const e = s.indexOf('e');
  const digits = s.slice(0, e).replace('.', '');
  return { d: trimZeros(digits), dp: Number(s.slice(e + 1)) + 1 };
}

function trimZeros(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 48) end--;
  return s.slice(0, end);
}

/** Rounds to nd digits; exact halves round to even, as strconv does. */
function roundDecimal(a: Decimal, nd: number): Decimal {
  const d = a.d;
  if (nd < 0 || nd >= d.length) return a;
  let up: boolean;
  if (d[nd] === '5' && nd + 1 === d.length) up = nd > 0 && (d.charCodeAt(nd - 1) - 48) % 2 === 1;
  else up = d[nd] >= '5';
  if (!up) return { d: trimZeros(d.slice(0, nd)), dp: a.dp };
  let i = nd - 1;
  while (i >= 0 && d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: a.dp + 1 };
  return { d: d.slice(0, i) + String.fromCharCode(d.charCodeAt(i) + 1), dp: a.dp };
}

function fmtE(neg: boolean, d: Decimal, prec: number, ch: string): string {
  let s = neg ? '-' : '';
  const nd = d.d.length;
  s += nd === 0 ? '0' : d.d[0];
  if (prec > 0) {
    s += '.';
    const m = Math.min(nd, prec + 1);
    let i = 1;
    if (i < m) {
      s += d.d.slice(i, m);
      i = m;
    }
    for (; i <= prec; i++) s += '0';
  }
  s += ch;
  let exp = nd === 0 ? 0 : d.dp - 1;
  if (exp < 0) {
    s += '-';
    exp = -exp;
  } else s += '+';
  s += exp < 10 ? '0' + exp : String(exp);
  return s;
}

function fmtF(neg: boolean, d: Decimal, prec: number): string {
  let s = neg ? '-' : '';
  const nd = d.d.length;
  if (d.dp > 0) {
    let m = Math.min(nd, d.dp);
    s += d.d.slice(0, m);
    for (; m < d.dp; m++) s += '0';
  } else s += '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.dp + i - 1;
      s += j >= 0 && j < nd ? d.d[j] : '0';
    }
  }
  return s;
}

/** strconv.FormatFloat(x, fmt, prec, 64) for fmt in e, E, f, g, G; prec < 0 means shortest. */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  const shortest = prec < 0;
  let d: Decimal;
  if (shortest) {
    d = shortestDecimal(ax);
    const nd = d.d.length;
    if (fmt === 'e' || fmt === 'E') prec = Math.max(nd - 1, 0);
    else if (fmt === 'f') prec = Math.max(nd - d.dp, 0);
    else prec = nd;
  } else {
    d = exactDecimal(ax);
    if (fmt === 'e' || fmt === 'E') d = roundDecimal(d, prec + 1);
    else if (fmt === 'f') d = roundDecimal(d, d.dp + prec);
    else {
      if (prec === 0) prec = 1;
      d = roundDecimal(d, prec);
    }
  }
  if (fmt === 'e' || fmt === 'E') return fmtE(neg, d, prec, fmt);
  if (fmt === 'f') return fmtF(neg, d, prec);
  // %g: %e for large and small exponents, %f otherwise.
  const nd = d.d.length;
  let eprec = prec;
  if (eprec > nd && nd >= d.dp) eprec = nd;
  if (shortest) eprec = 6;
  const exp = d.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > nd) prec = nd;
    return fmtE(neg, d, prec - 1, fmt === 'g' ? 'e' : 'E');
  }
  if (prec > d.dp) prec = nd;
  return fmtF(neg, d, Math.max(prec - d.dp, 0));
}

const MASK64 = (1n << 64n) - 1n;

function floatBits(x: number): { neg: boolean; mant: bigint; exp: number } {
  f64.setFloat64(0, x);
  const bits = f64.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp++;
  else mant |= 1n << 52n;
  return { neg: bits >> 63n === 1n, mant, exp: exp - 1023 };
}

/** strconv 'b' format: decimal mantissa and binary exponent, e.g. 4503599627370496p-52. */
export function formatFloatBinary(x: number): string {
  if (!Number.isFinite(x)) return formatFloat(x, 'g', -1);
  const { neg, mant, exp } = floatBits(x);
  const e = exp - 52;
  return (neg ? '-' : '') + mant.toString() + 'p' + (e >= 0 ? '+' : '') + e;
}

/** strconv 'x' format: hexadecimal mantissa and binary exponent, e.g. 0x1.8p+00. */
export function formatFloatHex(x: number, upper: boolean, prec: number): string {
  if (!Number.isFinite(x)) return formatFloat(x, 'g', -1);
  let { neg, mant, exp } = floatBits(x);
  if (mant === 0n) exp = 0;
  // Put the leading 1 at bit 60.
  mant <<= 8n;
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant <<= 1n;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant <<= 60n - shift;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
  let s = (neg ? '-' : '') + (upper ? '0X' : '0x') + String((mant >> 60n) & 1n);
  mant = (mant << 4n) & MASK64;
  const digit = (): string => {
    const d = digits[Number((mant >> 60n) & 15n)];
    mant = (mant << 4n) & MASK64;
    return d;
  };
  if (prec < 0 && mant !== 0n) {
    s += '.';
    while (mant !== 0n) s += digit();
  } else if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) s += digit();
  }
  s += upper ? 'P' : 'p';
  s += exp < 0 ? '-' : '+';
  const e = Math.abs(exp);
  return s + (e < 10 ? '0' + e : String(e));
}

// ---------------------------------------------------------------------------
// strconv: quoting

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  return printable.test(String.fromCodePoint(cp));
}

export function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function quoteWith(s: string, q: string, asciiOnly: boolean): string {
  let out = q;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === q || ch === '\\') {
      out += '\\' + ch;
      continue;
    }
    if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) {
      out += ch;
      continue;
    }
    switch (ch) {
      case '\x07':
        out += '\\a';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\v':
        out += '\\v';
        break;
      default:
        if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
        else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd'; // a lone surrogate is not valid UTF-8
        else if (cp < 0x10000) out += '\\u' + hex(cp, 4);
        else out += '\\U' + hex(cp, 8);
    }
  }
  return out + q;
}

/** strconv.Quote */
export function quote(s: string): string {
  return quoteWith(s, '"', false);
}

/** strconv.QuoteToASCII */
export function quoteASCII(s: string): string {
  return quoteWith(s, '"', true);
}

export function quoteRune(cp: number, asciiOnly: boolean): string {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  return quoteWith(String.fromCodePoint(cp), "'", asciiOnly);
}

export function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '`' || cp === 0xfeff) return false;
    if ((cp < 0x20 && ch !== '\t') || cp === 0x7f) return false;
  }
  return true;
}
