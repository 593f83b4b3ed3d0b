// How plain JavaScript data maps onto the Go values a docker template sees.
//
// docker executes templates against typed Go values; berth has only JS data
// (usually decoded from Engine API JSON). The mapping below is the contract:
//
//   undefined            an invalid reflect.Value (a missing map key): prints "<no value>"
//   null                 a nil interface: prints "<nil>"
//   boolean, string      bool, string
//   integer number       int (JSON integers decode into Go int fields in docker)
//   bigint               int64
//   other number         float64
//   GoFloat              float64 even when integral (template literals like 1.0)
//   array                []interface {}
//   plain object         map[string]interface {}: sorted when printed or ranged
//   goStruct(obj, T)     a struct of type T: missing fields are errors
//   function             a method when reached as a field (.Label "x")
//
// Object fields are looked up as own properties, or along a class prototype
// chain (so rows may be classes with getters/methods), never on
// Object.prototype: `.constructor` must not reach JS internals.

/** A float64 that must stay a float even when it holds an integral value. */
export class GoFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
}

export type Kind = 'invalid' | 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map' | 'struct' | 'func';

interface StructInfo {
  typeName: string;
  /** docker's formatter contexts: `json .` marshals their zero-argument methods, sorted and HTML-escaped. */
  context: boolean;
}

const structs = new WeakMap<object, StructInfo>();

/** Marks obj as a Go struct of the given type: unknown fields fail like Go's "can't evaluate field". */
export function goStruct<T extends object>(obj: T, typeName: string): T {
  structs.set(obj, { typeName, context: false });
  return obj;
}

/** Marks obj as a docker formatter context (a list row); see formatter.ts. */
export function formatterContext<T extends object>(obj: T, typeName: string): T {
  structs.set(obj, { typeName, context: true });
  return obj;
}

export function structInfo(v: object): StructInfo | undefined {
  return structs.get(v);
}

export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'undefined':
      return 'invalid';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'function':
      return 'func';
    case 'object':
      if (v === null) return 'nil';
      if (v instanceof GoFloat) return 'float';
      if (Array.isArray(v)) return 'slice';
      return structs.has(v) ? 'struct' : 'map';
    default:
      // symbols: not something templates can meaningfully use; treat as nil.
      return 'nil';
  }
}

/** The Go type name used in error messages and by %T. */
export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return '<nil>';
    case 'bool':
      return 'bool';
    case 'string':
      return 'string';
    case 'int':
      return typeof v === 'bigint' ? 'int64' : 'int';
    case 'float':
      return 'float64';
    case 'slice':
      return '[]interface {}';
    case 'map':
      return 'map[string]interface {}';
    case 'struct':
      return structs.get(v as object)!.typeName;
    case 'func':
      return 'func()';
  }
}

/** The number a numeric value holds (ints as JS numbers; precision above 2^53 is lost). */
export function toNumber(v: unknown): number {
  if (v instanceof GoFloat) return v.value;
  if (typeof v === 'bigint') return Number(v);
  return v as number;
}

/** An int value as a bigint, exact even above 2^53. */
export function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  return BigInt(v as number);
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'bool':
      return v as boolean;
    case 'int':
    case 'float':
      return typeof v === 'bigint' ? v !== 0n : toNumber(v) !== 0;
    case 'string':
      return (v as string).length > 0;
    case 'slice':
      return (v as unknown[]).length > 0;
    case 'map':
      return fieldNames(v as object).length > 0;
    case 'struct':
    case 'func':
      return true;
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

function isPlain(o: object): boolean {
  const p = Object.getPrototypeOf(o) as object | null;
  return p === null || p === Object.prototype;
}

/** Whether obj has a field or method called name (own, or on a class prototype). */
export function hasField(obj: object, name: string): boolean {
  if (name === '__proto__' || name === 'constructor') return false;
  if (hasOwn.call(obj, name)) return true;
  if (isPlain(obj)) return false;
  for (let p = Object.getPrototypeOf(obj) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (hasOwn.call(p, name)) return true;
  }
  return false;
}

/**
 * The field names of obj in declaration (insertion) order: own enumerable
 * keys, then getters and methods declared on class prototypes.
 */
export function fieldNames(obj: object): string[] {
  const own = Object.keys(obj);
  if (isPlain(obj)) return own;
  const seen = new Set(own);
  const out = own.slice();
  for (let p = Object.getPrototypeOf(obj) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === 'constructor' || seen.has(k)) continue;
      seen.add(k);
      out.push(k);
    }
  }
  return out;
}

const upperStart = /^\p{Lu}/u;

/** Go's token.IsExported: the name starts with an upper-case letter. */
export function isExported(name: string): boolean {
  return upperStart.test(name);
}

/** Compares strings by code point, which is Go's byte-wise UTF-8 order. */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after all BMP code points in UTF-8.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** The keys of a map value in Go's printing/ranging order. */
export function sortedKeys(obj: object): string[] {
  return fieldNames(obj).sort(compareStrings);
}

/** True if s is pure printable ASCII (the fast path for widths and byte lengths). */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Go's len(string): the UTF-8 byte length. */
export function byteLength(s: string): number {
  return isAscii(s) ? s.length : encoder.encode(s).length;
}

export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * Go's s[i:j] on a string, which slices bytes. When the cut splits a
 * character the partial bytes decode to U+FFFD, which is what a terminal
 * shows for the bytes docker writes.
 */
export function byteSlice(s: string, start: number, end?: number): string {
  if (isAscii(s)) return s.slice(start, end);
  return decoder.decode(encoder.encode(s).subarray(start, end));
}

/** The number of Unicode code points (Go's utf8.RuneCountInString). */
export function runeCount(s: string): number {
  if (isAscii(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Count a surrogate pair once.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
