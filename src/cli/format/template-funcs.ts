// The template functions: Go's builtins (text/template/funcs.go) and the
// ones docker adds (docker/cli templates/templates.go), including the
// identity replacements docker uses when rendering table headers.

import { evalArgs, fieldValue, sprint, sprintf, sprintln } from './template-fmt.js';
import { marshalJSON } from './template-json.js';
import {
  byteLength,
  byteSlice,
  compareStrings,
  fieldNames,
  hasField,
  isTrue,
  kindOf,
  sortedKeys,
  toBigInt,
  toNumber,
  typeName,
  utf8Bytes,
} from './template-value.js';

/**
 * How an argument is checked and converted before a call, after Go's
 * parameter types: 'any' is interface{} (a missing value becomes nil),
 * 'value' is reflect.Value (a missing value stays missing), the others must
 * hold that type.
 */
export type ParamType = 'any' | 'value' | 'string' | 'int' | 'bool';

export interface FuncSpec {
  params: readonly ParamType[];
  /** Type of the trailing ... parameters, for variadic functions. */
  variadic?: ParamType;
  fn: (...args: unknown[]) => unknown;
  /** and/or short-circuit and call names its callee; the executor implements them. */
  special?: 'and' | 'or' | 'call';
}

/**
 * A template function: a FuncSpec, or a plain JS function whose parameters
 * are all interface{} and whose arity is fn.length. Throwing an Error fails
 * the execution with "error calling NAME: message", as a Go function
 * returning an error does.
 */
export type TemplateFunc = FuncSpec | ((...args: never[]) => unknown);
export type FuncMap = Readonly<Record<string, TemplateFunc>>;

/** Thrown by a function to fail the execution with "error calling NAME: message". */
export class FuncError extends Error {}

export function toSpec(f: TemplateFunc): FuncSpec {
  if (typeof f !== 'function') return f;
  return { params: new Array<ParamType>(f.length).fill('any'), fn: f as (...args: unknown[]) => unknown };
}

function spec<A extends unknown[]>(params: readonly ParamType[], fn: (...args: A) => unknown, variadic?: ParamType): FuncSpec {
  return { params, variadic, fn: fn as unknown as (...args: unknown[]) => unknown };
}

// ---------------------------------------------------------------------------
// Indexing, slicing, length

function indexArg(index: unknown, cap: number): number {
  const k = kindOf(index);
  if (k === 'invalid' || k === 'nil') throw new FuncError('cannot index slice/array with nil');
  if (k !== 'int') throw new FuncError(`cannot index slice/array with type ${typeName(index)}`);
  const x = toBigInt(index);
  if (x < 0n || x > BigInt(cap)) throw new FuncError(`index out of range: ${x}`);
  return Number(x);
}

/**
 * The zero value for a missing map key. JS objects do not know their Go
 * element type; a map whose values are all strings (labels, options) is
 * taken as map[string]string and yields "", any other as
 * map[string]interface{} and yields nil.
 */
export function zeroValueOf(map: object): unknown {
  const rec = map as Record<string, unknown>;
  return fieldNames(map).every((k) => typeof rec[k] === 'string') ? '' : null;
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('index of untyped nil');
  for (const idx of indexes) {
    if (item === undefined || item === null) throw new FuncError('index of nil pointer');
    switch (kindOf(item)) {
      case 'slice': {
        const a = item as unknown[];
        const x = indexArg(idx, a.length);
        if (x === a.length) throw new FuncError('reflect: slice index out of range');
        item = a[x];
        break;
      }
      case 'string': {
        const b = utf8Bytes(item as string);
        const x = indexArg(idx, b.length);
        if (x === b.length) throw new FuncError('reflect: string index out of range');
        item = b[x];
        break;
      }
      case 'map': {
        if (idx === undefined || idx === null) throw new FuncError('value is nil; should be of type string');
        if (typeof idx !== 'string') throw new FuncError(`value has type ${typeName(idx)}; should be string`);
        const o = item as Record<string, unknown>;
        item = hasField(o, idx) ? fieldValue(o, idx) : zeroValueOf(o);
        break;
      }
      default:
        throw new FuncError(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined || item === null) throw new FuncError('slice of untyped nil');
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`);
  let cap: number;
  switch (kindOf(item)) {
    case 'string':
      if (indexes.length === 3) throw new FuncError('cannot 3-index slice a string');
      cap = byteLength(item as string);
      break;
    case 'slice':
      cap = (item as unknown[]).length;
      break;
    default:
      throw new FuncError(`can't slice item of type ${typeName(item)}`);
  }
  const idx = [0, cap, cap];
  indexes.forEach((x, i) => (idx[i] = indexArg(x, cap)));
  if (idx[0] > idx[1]) throw new FuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1] > idx[2]) throw new FuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (typeof item === 'string') return byteSlice(item, idx[0], idx[1]);
  return (item as unknown[]).slice(idx[0], idx[1]);
}

function length(item: unknown): number {
  switch (kindOf(item)) {
    case 'invalid':
    case 'nil':
      throw new FuncError('len of nil pointer');
    case 'string':
      return byteLength(item as string);
    case 'slice':
      return (item as unknown[]).length;
    case 'map':
      return fieldNames(item as object).length;
    default:
      throw new FuncError(`len of type ${typeName(item)}`);
  }
}

// ---------------------------------------------------------------------------
// Comparison

type BasicKind = 'bool' | 'int' | 'float' | 'string' | 'invalid';

function basicKind(v: unknown): BasicKind {
  const k = kindOf(v);
  return k === 'bool' || k === 'int' || k === 'float' || k === 'string' ? k : 'invalid';
}

function isNumeric(k: BasicKind): boolean {
  return k === 'int' || k === 'float';
}

/** Compares two numbers exactly when both are ints, numerically otherwise. */
function compareNumbers(a: unknown, b: unknown): number {
  if (kindOf(a) === 'int' && kindOf(b) === 'int') {
    const x = toBigInt(a);
    const y = toBigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = toNumber(a);
  const y = toNumber(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function isNilish(v: unknown): boolean {
  return v === undefined || v === null;
}

function eq(arg1: unknown, ...arg2: unknown[]): boolean {
  if (arg2.length === 0) throw new FuncError('missing argument for comparison');
  const k1 = basicKind(arg1);
  for (const arg of arg2) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      // Go refuses int == float; JS cannot tell an integral float64 from
      // an int, so numbers compare by value.
      if (isNumeric(k1) && isNumeric(k2)) truth = compareNumbers(arg1, arg) === 0;
      else if (!isNilish(arg1) && !isNilish(arg)) {
        throw new FuncError(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg)}`);
      }
    } else {
      switch (k1) {
        case 'bool':
        case 'string':
          truth = arg1 === arg;
          break;
        case 'int':
        case 'float':
          truth = compareNumbers(arg1, arg) === 0;
          break;
        default:
          if (isNilish(arg1) || isNilish(arg)) truth = isNilish(arg1) === isNilish(arg);
          else if (kindOf(arg1) !== kindOf(arg)) {
            throw new FuncError(`non-comparable types ${sprint([arg1])}: ${typeName(arg1)}, ${typeName(arg)}: ${sprint([arg])}`);
          } else if (kindOf(arg) === 'slice' || kindOf(arg) === 'map' || kindOf(arg) === 'func') {
            throw new FuncError(`non-comparable type ${sprint([arg])}: ${typeName(arg)}`);
          } else truth = arg1 === arg;
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(arg1: unknown, arg2: unknown): boolean {
  const k1 = basicKind(arg1);
  const k2 = basicKind(arg2);
  if (k1 === 'invalid' || k2 === 'invalid') throw new FuncError('invalid type for comparison');
  if (k1 !== k2) {
    if (isNumeric(k1) && isNumeric(k2)) return compareNumbers(arg1, arg2) < 0;
    throw new FuncError(`incompatible types for comparison: ${typeName(arg1)} and ${typeName(arg2)}`);
  }
  switch (k1) {
    case 'bool':
      throw new FuncError('invalid type for comparison');
    case 'string':
      return compareStrings(arg1 as string, arg2 as string) < 0;
    default:
      return compareNumbers(arg1, arg2) < 0;
  }
}

function le(a: unknown, b: unknown): boolean {
  return lt(a, b) || eq(a, b);
}

// ---------------------------------------------------------------------------
// Escapers

/** template.HTMLEscapeString */
export function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => {
    switch (c) {
      case '\0':
        return '\uFFFD';
      case '"':
        return '&#34;';
      case "'":
        return '&#39;';
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      default:
        return '&gt;';
    }
  });
}

const printableUnicode = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** template.JSEscapeString */
export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (cp < 0x20) out += '\\u00' + cp.toString(16).toUpperCase().padStart(2, '0');
    else if (cp < 0x80 || printableUnicode.test(ch)) out += ch;
    else out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}

/** url.QueryEscape */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8Bytes(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// ---------------------------------------------------------------------------
// docker's functions

/** strings.Split: an empty separator splits after each character. */
function split(s: string, sep: string): string[] {
  return sep === '' ? Array.from(s) : s.split(sep);
}

/** docker's join: slices join their elements' fmt.Sprint forms; maps their sorted values. */
function join(elems: unknown, sep: string): string {
  switch (kindOf(elems)) {
    case 'invalid':
    case 'nil':
      return '';
    case 'slice':
      return (elems as unknown[]).map((e) => (typeof e === 'string' ? e : sprint([e]))).join(sep);
    case 'map': {
      const o = elems as Record<string, unknown>;
      return sortedKeys(o)
        .map((k) => sprint([fieldValue(o, k)]))
        .sort(compareStrings)
        .join(sep);
    }
    default:
      throw new FuncError(`expected slice, got ${typeName(elems)}`);
  }
}

/** unicode.ToUpper/ToLower map one code point to one; JS's full case mapping may not. */
function mapCase(s: string, upper: boolean): string {
  let out = '';
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    if (m.length === ch.length && Array.from(m).length === 1) out += m;
    else if (!upper && ch === '\u0130') out += 'i'; // İ lowers to i in Go's simple mapping
    else out += ch;
  }
  return out;
}

function lower(s: string): string {
  return /^[\x00-\x7f]*$/.test(s) ? s.toLowerCase() : mapCase(s, false);
}

function upper(s: string): string {
  return /^[\x00-\x7f]*$/.test(s) ? s.toUpperCase() : mapCase(s, true);
}

const letterOrDigit = /^[\p{L}\p{Nd}]$/u;
const unicodeSpace = /^[\s\u0085]$/u;

/** strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    let sep: boolean;
    if (prev.codePointAt(0)! < 0x80) sep = !/[0-9A-Za-z_]/.test(prev);
    else sep = !letterOrDigit.test(prev) && unicodeSpace.test(prev);
    out += sep ? mapCase(ch, true) : ch;
    prev = ch;
  }
  return out;
}

function repeatCount(n: number): number {
  if (n < 0) throw new FuncError('strings: negative Repeat count');
  return n;
}

function pad(s: string, prefix: unknown, suffix: unknown): string {
  if (s === '') return s;
  return ' '.repeat(repeatCount(toNumber(prefix))) + s + ' '.repeat(repeatCount(toNumber(suffix)));
}

/** docker's truncate cuts bytes, not characters (see byteSlice). */
function truncate(s: string, n: unknown): string {
  const length = toNumber(n);
  if (length < 0) throw new FuncError(`runtime error: slice bounds out of range [:${length}]`);
  if (byteLength(s) < length) return s;
  return byteSlice(s, 0, length);
}

// ---------------------------------------------------------------------------
// Function maps

const identity = (v: unknown) => v;

/** Go's predefined functions. */
export const BUILTINS: ReadonlyMap<string, FuncSpec> = new Map<string, FuncSpec>([
  ['and', { params: ['value'], variadic: 'value', fn: identity, special: 'and' }],
  ['or', { params: ['value'], variadic: 'value', fn: identity, special: 'or' }],
  ['call', { params: ['value'], variadic: 'value', fn: identity, special: 'call' }],
  ['html', spec([], (...args: unknown[]) => htmlEscape(evalArgs(args)), 'any')],
  ['js', spec([], (...args: unknown[]) => jsEscape(evalArgs(args)), 'any')],
  ['urlquery', spec([], (...args: unknown[]) => queryEscape(evalArgs(args)), 'any')],
  ['index', spec(['value'], index, 'value')],
  ['slice', spec(['value'], slice, 'value')],
  ['len', spec(['value'], length)],
  ['not', spec(['value'], (v: unknown) => !isTrue(v))],
  ['print', spec([], (...args: unknown[]) => sprint(args), 'any')],
  ['printf', spec(['string'], (f: string, ...args: unknown[]) => sprintf(f, args), 'any')],
  ['println', spec([], (...args: unknown[]) => sprintln(args), 'any')],
  ['eq', spec(['value'], eq, 'value')],
  ['ne', spec(['value', 'value'], (a: unknown, b: unknown) => !eq(a, b))],
  ['lt', spec(['value', 'value'], lt)],
  ['le', spec(['value', 'value'], le)],
  ['gt', spec(['value', 'value'], (a: unknown, b: unknown) => !le(a, b))],
  ['ge', spec(['value', 'value'], (a: unknown, b: unknown) => !lt(a, b))],
]);

/** docker's basicFunctions, available to every docker template. */
export const DOCKER_FUNCS: FuncMap = {
  json: spec(['any'], (v: unknown) => marshalJSON(v, { escapeHTML: false })),
  split: spec(['string', 'string'], split),
  join: spec(['any', 'string'], join),
  title: spec(['string'], title),
  lower: spec(['string'], lower),
  upper: spec(['string'], upper),
  pad: spec(['string', 'int', 'int'], pad),
  truncate: spec(['string', 'int'], truncate),
};

/**
 * docker's HeaderFunctions: replacements used when a table template is
 * executed against the header titles, so that `{{json .Labels}}` or
 * `{{.Names | upper}}` show the column title untouched. pad stays, so
 * padded columns keep their alignment.
 */
export const HEADER_FUNCS: FuncMap = {
  json: spec(['string'], identity),
  split: spec(['string', 'string'], identity),
  join: spec(['string', 'string'], identity),
  title: spec(['string'], identity),
  lower: spec(['string'], identity),
  upper: spec(['string'], identity),
  truncate: spec(['string', 'int'], identity),
};
