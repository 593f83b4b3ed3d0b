// Go's fmt and strconv, as far as templates reach them: how values print
// ({{.X}}, print, println), printf's verbs, flags, widths and error forms
// ("%!d(string=x)"), float formatting and string quoting.

import { canBackquote, formatFloat, formatFloatBinary, formatFloatHex, hex, isPrint, quote, quoteASCII, quoteRune } from './template-strconv.js';
import {
  GoFloat,
  fieldNames,
  kindOf,
  runeCount,
  sortedKeys,
  structInfo,
  toBigInt,
  toNumber,
  typeName,
  utf8Bytes,
} from './template-value.js';

// ---------------------------------------------------------------------------
// fmt

class Printer {
  buf = '';
  // flags of the verb being formatted
  plus = false;
  minus = false;
  sharp = false;
  space = false;
  zero = false;
  plusV = false;
  sharpV = false;
  wid = 0;
  widPresent = false;
  prec = 0;
  precPresent = false;
  reordered = false;
  goodArgNum = true;

  clearFlags(): void {
    this.plus = this.minus = this.sharp = this.space = this.zero = false;
    this.plusV = this.sharpV = false;
    this.wid = this.prec = 0;
    this.widPresent = this.precPresent = false;
  }

  private padding(n: number, zero: boolean): string {
    return n > 0 ? (zero ? '0' : ' ').repeat(n) : '';
  }

  /** Writes s padded to the width (counted in runes, as Go does). */
  pad(s: string): void {
    if (!this.widPresent || this.wid === 0) {
      this.buf += s;
      return;
    }
    const n = this.wid - runeCount(s);
    if (!this.minus) this.buf += this.padding(n, this.zero) + s;
    else this.buf += s + this.padding(n, false);
  }

  private padNoZero(s: string): void {
    const z = this.zero;
    this.zero = false;
    this.pad(s);
    this.zero = z;
  }

  printArg(arg: unknown, verb: string): void {
    if (arg === undefined || arg === null) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb, arg);
      return;
    }
    if (verb === 'T') {
      this.pad(typeName(arg));
      return;
    }
    if (verb === 'p') {
      this.badVerb(verb, arg);
      return;
    }
    this.printValue(arg, verb, 0);
  }

  printValue(v: unknown, verb: string, depth: number): void {
    switch (kindOf(v)) {
      case 'invalid':
      case 'nil':
        // A nil element of a slice or map.
        if (depth === 0) this.printArg(null, verb);
        else this.pad(this.sharpV ? 'interface {}(nil)' : '<nil>');
        return;
      case 'bool':
        if (verb === 't' || verb === 'v') this.pad(String(v));
        else this.badVerb(verb, v);
        return;
      case 'int':
        this.fmtInteger(toBigInt(v), verb, v);
        return;
      case 'float':
        this.fmtFloat(toNumber(v), verb, v);
        return;
      case 'string':
        this.fmtString(v as string, verb, v);
        return;
      case 'func':
        this.pad(this.sharpV ? '(func())(nil)' : 'func()');
        return;
      case 'slice':
      case 'map':
      case 'struct':
        if (this.handleStringer(v as object, verb)) return;
        this.printComposite(v as object, verb, depth);
        return;
    }
  }

  /** Objects with their own toString act as Go Stringers for %v %s %q %x %X. */
  private handleStringer(o: object, verb: string): boolean {
    if (this.sharpV || Array.isArray(o)) return false;
    if (!'vsqxX'.includes(verb)) return false;
    const p = Object.getPrototypeOf(o) as object | null;
    if (p === null || p === Object.prototype) return false;
    const ts = (o as { toString?: unknown }).toString;
    if (typeof ts !== 'function' || ts === Object.prototype.toString) return false;
    let s: string;
    try {
      s = String(ts.call(o));
    } catch (e) {
      this.buf += `%!${verb}(PANIC=String method: ${e instanceof Error ? e.message : String(e)})`;
      return true;
    }
    this.fmtString(s, verb, s);
    return true;
  }

  private printComposite(o: object, verb: string, depth: number): void {
    if (Array.isArray(o)) {
      if (this.sharpV) {
        this.buf += '[]interface {}{';
        o.forEach((e, i) => {
          if (i > 0) this.buf += ', ';
          this.printValue(e, verb, depth + 1);
        });
        this.buf += '}';
        return;
      }
      this.buf += '[';
      o.forEach((e, i) => {
        if (i > 0) this.buf += ' ';
        this.printValue(e, verb, depth + 1);
      });
      this.buf += ']';
      return;
    }
    const info = structInfo(o);
    const rec = o as Record<string, unknown>;
    if (info) {
      // A struct prints its fields in declaration order.
      if (this.sharpV) this.buf += info.typeName;
      this.buf += '{';
      fieldNames(o).forEach((k, i) => {
        if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
        if (this.plusV || this.sharpV) this.buf += k + ':';
        this.printValue(fieldValue(rec, k), verb, depth + 1);
      });
      this.buf += '}';
      return;
    }
    // A map prints sorted by key.
    this.buf += this.sharpV ? 'map[string]interface {}{' : 'map[';
    sortedKeys(o).forEach((k, i) => {
      if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
      this.printValue(k, verb, depth + 1);
      this.buf += ':';
      this.printValue(fieldValue(rec, k), verb, depth + 1);
    });
    this.buf += this.sharpV ? '}' : ']';
  }

  badVerb(verb: string, arg: unknown): void {
    this.buf += '%!' + verb + '(';
    if (arg === null || arg === undefined) this.buf += '<nil>';
    else {
      this.buf += typeName(arg) + '=';
      this.printArg(arg, 'v');
    }
    this.buf += ')';
  }

  private fmtInteger(n: bigint, verb: string, arg: unknown): void {
    switch (verb) {
      case 'v':
      case 'd':
        this.fmtInt(n, 10, verb, false);
        return;
      case 'b':
        this.fmtInt(n, 2, verb, false);
        return;
      case 'o':
      case 'O':
        this.fmtInt(n, 8, verb, false);
        return;
      case 'x':
        this.fmtInt(n, 16, verb, false);
        return;
      case 'X':
        this.fmtInt(n, 16, verb, true);
        return;
      case 'c':
        this.pad(runeString(n));
        return;
      case 'q':
        this.pad(quoteRune(n < 0n || n > 0x10ffffn ? 0xfffd : Number(n), this.plus));
        return;
      case 'U':
        this.fmtUnicode(n);
        return;
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        // Go rejects float verbs on ints, but JS cannot tell an integral
        // float64 (a CPU percentage of exactly 2) from an int: format it.
        this.fmtFloat(Number(n), verb, new GoFloat(Number(n)));
        return;
      default:
        this.badVerb(verb, arg);
    }
  }

  private fmtInt(n: bigint, base: number, verb: string, upper: boolean): void {
    const negative = n < 0n;
    const u = negative ? -n : n;
    let prec = 0;
    if (this.precPresent) {
      prec = this.prec;
      if (prec === 0 && u === 0n) {
        this.buf += this.padding(this.wid, false);
        return;
      }
    } else if (this.zero && this.widPresent && !this.minus) {
      prec = this.wid;
      if (negative || this.plus || this.space) prec--;
    }
    let digits = u.toString(base);
    if (upper) digits = digits.toUpperCase();
    if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
    if (this.sharp) {
      if (base === 2) digits = '0b' + digits;
      else if (base === 8 && digits[0] !== '0') digits = '0' + digits;
      else if (base === 16) digits = (upper ? '0X' : '0x') + digits;
    }
    if (verb === 'O') digits = '0o' + digits;
    if (negative) digits = '-' + digits;
    else if (this.plus) digits = '+' + digits;
    else if (this.space) digits = ' ' + digits;
    this.padNoZero(digits);
  }

  private fmtUnicode(n: bigint): void {
    let h = (n < 0n ? n + (1n << 64n) : n).toString(16).toUpperCase();
    const prec = this.precPresent && this.prec > 4 ? this.prec : 4;
    if (h.length < prec) h = '0'.repeat(prec - h.length) + h;
    let s = 'U+' + h;
    if (this.sharp && n >= 0n && n <= 0x10ffffn && isPrint(Number(n))) s += " '" + String.fromCodePoint(Number(n)) + "'";
    this.padNoZero(s);
  }

  private fmtFloat(x: number, verb: string, arg: unknown): void {
    let fmt: 'e' | 'E' | 'f' | 'g' | 'G';
    let prec: number;
    if (verb === 'b' || verb === 'x' || verb === 'X') {
      const num = verb === 'b' ? formatFloatBinary(x) : formatFloatHex(x, verb === 'X', this.precPresent ? this.prec : -1);
      this.fmtFloatNumber(num);
      return;
    }
    switch (verb) {
      case 'v':
      case 'g':
        fmt = 'g';
        prec = -1;
        break;
      case 'G':
        fmt = 'G';
        prec = -1;
        break;
      case 'f':
      case 'F':
        fmt = 'f';
        prec = 6;
        break;
      case 'e':
      case 'E':
        fmt = verb;
        prec = 6;
        break;
      default:
        this.badVerb(verb, arg);
        return;
    }
    if (this.precPresent) prec = this.prec;
    this.fmtFloatNumber(formatFloat(x, fmt, prec));
  }

  /** Signs, infinities and zero padding around a formatted float. */
  private fmtFloatNumber(num: string): void {
    num = num[0] === '-' || num[0] === '+' ? num : '+' + num;
    if (this.space && num[0] === '+' && !this.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      if (num[1] === 'N' && !this.space && !this.plus) num = num.slice(1);
      this.padNoZero(num);
      return;
    }
    if (this.plus || num[0] !== '+') {
      // Zero padding goes between the sign and the digits.
      if (this.zero && !this.minus && this.widPresent && this.wid > num.length) {
        this.buf += num[0] + '0'.repeat(this.wid - num.length) + num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  private fmtString(s: string, verb: string, arg: unknown): void {
    switch (verb) {
      case 'v':
        if (this.sharpV) this.pad(quote(s));
        else this.pad(this.truncate(s));
        return;
      case 's':
        this.pad(this.truncate(s));
        return;
      case 'x':
        this.fmtSx(s, false);
        return;
      case 'X':
        this.fmtSx(s, true);
        return;
      case 'q': {
        const t = this.truncate(s);
        if (this.sharp && canBackquote(t)) this.pad('`' + t + '`');
        else this.pad(this.plus ? quoteASCII(t) : quote(t));
        return;
      }
      default:
        this.badVerb(verb, arg);
    }
  }

  private truncate(s: string): string {
    if (!this.precPresent) return s;
    const cps = Array.from(s);
    return cps.length > this.prec ? cps.slice(0, this.prec).join('') : s;
  }

  private fmtSx(s: string, upper: boolean): void {
    let bytes = utf8Bytes(s);
    if (this.precPresent && this.prec < bytes.length) bytes = bytes.subarray(0, this.prec);
    const length = bytes.length;
    let width = 2 * length;
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2;
        width += length - 1;
      } else if (this.sharp) width += 2;
    } else {
      if (this.widPresent) this.buf += this.padding(this.wid, false);
      return;
    }
    if (this.widPresent && this.wid > width && !this.minus) this.buf += this.padding(this.wid - width, false);
    const prefix = upper ? '0X' : '0x';
    let out = this.sharp ? prefix : '';
    for (let i = 0; i < length; i++) {
      if (this.space && i > 0) {
        out += ' ';
        if (this.sharp) out += prefix;
      }
      const h = hex(bytes[i], 2);
      out += upper ? h.toUpperCase() : h;
    }
    this.buf += out;
    if (this.widPresent && this.wid > width && this.minus) this.buf += this.padding(this.wid - width, false);
  }
}

function runeString(n: bigint): string {
  if (n < 0n || n > 0x10ffffn) return '\ufffd';
  const cp = Number(n);
  if (cp >= 0xd800 && cp <= 0xdfff) return '\ufffd';
  return String.fromCodePoint(cp);
}

/** Reads a field for printing: zero-argument methods are called, others are skipped as nil. */
export function fieldValue(o: Record<string, unknown>, k: string): unknown {
  const v = o[k];
  if (typeof v === 'function') return v.length === 0 ? (v as () => unknown).call(o) : null;
  return v;
}

function isGoString(v: unknown): boolean {
  return typeof v === 'string';
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: readonly unknown[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = isGoString(arg);
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.printArg(arg, 'v');
    prevString = isString;
  });
  return p.buf;
}

/** fmt.Sprintln: always spaces, and a newline. */
export function sprintln(args: readonly unknown[]): string {
  const p = new Printer();
  args.forEach((arg, i) => {
    if (i > 0) p.buf += ' ';
    p.printArg(arg, 'v');
  });
  return p.buf + '\n';
}

/** How a template action prints its value: fmt.Print, with "<no value>" for a missing one. */
export function formatValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 1e21) return String(v);
  return sprint([v]);
}

const TOO_LARGE = 1e6;

function parseNum(s: string, start: number, end: number): [num: number, ok: boolean, next: number] {
  if (start >= end) return [0, false, end];
  let num = 0;
  let ok = false;
  let i = start;
  for (; i < end && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57; i++) {
    if (num > TOO_LARGE) return [0, false, end];
    num = num * 10 + (s.charCodeAt(i) - 48);
    ok = true;
  }
  return [num, ok, i];
}

function intFromArg(args: readonly unknown[], argNum: number): [num: number, ok: boolean, next: number] {
  let num = 0;
  let ok = false;
  let next = argNum;
  if (argNum < args.length) {
    const a = args[argNum];
    if (kindOf(a) === 'int') {
      const n = toBigInt(a);
      if (n >= -BigInt(Number.MAX_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)) {
        num = Number(n);
        ok = true;
      }
    }
    next = argNum + 1;
    if (num > TOO_LARGE || num < -TOO_LARGE) {
      num = 0;
      ok = false;
    }
  }
  return [num, ok, next];
}

/** fmt.Sprintf */
export function sprintf(format: string, args: readonly unknown[]): string {
  const p = new Printer();
  const end = format.length;
  let argNum = 0;
  let afterIndex = false;

  const argNumber = (i: number): [number, number, boolean] => {
    if (i >= end || format[i] !== '[') return [argNum, i, false];
    p.reordered = true;
    // [n] with n one-based
    let close = -1;
    for (let j = i + 1; j < end; j++) {
      if (format[j] === ']') {
        close = j;
        break;
      }
    }
    if (close < 0 || close - i < 2) {
      p.goodArgNum = false;
      return [argNum, i + 1, false];
    }
    const [n, ok, ni] = parseNum(format, i + 1, close);
    if (!ok || ni !== close) {
      p.goodArgNum = false;
      return [argNum, close + 1, false];
    }
    const index = n - 1;
    if (index >= 0 && index < args.length) return [index, close + 1, true];
    p.goodArgNum = false;
    return [argNum, close + 1, true];
  };

  let i = 0;
  while (i < end) {
    p.goodArgNum = true;
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) p.buf += format.slice(lasti, i);
    if (i >= end) break;
    i++; // skip %
    p.clearFlags();
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#':
          p.sharp = true;
          break;
        case '0':
          p.zero = !p.minus; // only pad with zeros on the left
          break;
        case '+':
          p.plus = true;
          break;
        case '-':
          p.minus = true;
          p.zero = false;
          break;
        case ' ':
          p.space = true;
          break;
        default:
          break flags;
      }
    }
    let r = argNumber(i);
    [argNum, i, afterIndex] = r;
    if (i < end && format[i] === '*') {
      i++;
      const [w, ok, next] = intFromArg(args, argNum);
      p.wid = w;
      p.widPresent = ok;
      argNum = next;
      if (!ok) p.buf += '%!(BADWIDTH)';
      if (p.wid < 0) {
        p.wid = -p.wid;
        p.minus = true;
        p.zero = false;
      }
      afterIndex = false;
    } else {
      const [w, ok, next] = parseNum(format, i, end);
      p.wid = w;
      p.widPresent = ok;
      i = next;
      if (afterIndex && p.widPresent) p.goodArgNum = false;
    }
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) p.goodArgNum = false;
      r = argNumber(i);
      [argNum, i, afterIndex] = r;
      if (i < end && format[i] === '*') {
        i++;
        const [pr, ok, next] = intFromArg(args, argNum);
        p.prec = pr;
        p.precPresent = ok;
        argNum = next;
        if (p.prec < 0) {
          p.prec = 0;
          p.precPresent = false;
        }
        if (!p.precPresent) p.buf += '%!(BADPREC)';
        afterIndex = false;
      } else {
        const [pr, ok, next] = parseNum(format, i, end);
        p.prec = ok ? pr : 0;
        p.precPresent = true;
        i = next;
      }
    }
    if (!afterIndex) {
      r = argNumber(i);
      [argNum, i, afterIndex] = r;
    }
    if (i >= end) {
      p.buf += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      p.buf += '%';
    } else if (!p.goodArgNum) {
      p.buf += '%!' + verb + '(BADINDEX)';
    } else if (argNum >= args.length) {
      p.buf += '%!' + verb + '(MISSING)';
    } else {
      let v = verb;
      if (v === 'v') {
        p.sharpV = p.sharp;
        p.sharp = false;
        p.plusV = p.plus;
        p.plus = false;
      } else if (v === 'w') v = 'v'; // %w only means something to fmt.Errorf
      p.printArg(args[argNum], v);
      argNum++;
    }
  }
  if (!p.reordered && argNum < args.length) {
    p.clearFlags();
    p.buf += '%!(EXTRA ';
    args.slice(argNum).forEach((arg, j) => {
      if (j > 0) p.buf += ', ';
      if (arg === null || arg === undefined) p.buf += '<nil>';
      else {
        p.buf += typeName(arg) + '=';
        p.printArg(arg, 'v');
      }
    });
    p.buf += ')';
  }
  return p.buf;
}

/** Go's textual form of a value for the html/js/urlquery escapers (fmt.Sprint, "<no value>" for nil). */
export function evalArgs(args: readonly unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === null || a === undefined ? '<no value>' : a)));
}
