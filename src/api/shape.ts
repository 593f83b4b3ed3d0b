/**
 * The Go types dockerd decodes request bodies into, as data: a body whose
 * fields have the wrong JSON types is refused the way Go's encoding/json
 * refuses it (a 400 naming the field), before any handler sees it. As in Go,
 * `null` is accepted anywhere and unknown fields are ignored.
 */
export type Shape =
  | 'string'
  | 'bool'
  | 'int'
  | 'uint'
  | 'float'
  /** moby's strslice.StrSlice: a string or an array of strings. */
  | 'strslice'
  | 'any'
  | { list: Shape }
  | { map: Shape }
  | { struct: string; fields: Record<string, Shape> };

const GO_TYPES: Record<string, string> = { string: 'string', bool: 'bool', int: 'int64', uint: 'uint64', float: 'float64', strslice: 'strslice.StrSlice' };

function goType(s: Shape): string {
  if (typeof s === 'string') return GO_TYPES[s] ?? 'interface {}';
  if ('list' in s) return `[]${goType(s.list)}`;
  if ('map' in s) return `map[string]${goType(s.map)}`;
  return s.struct;
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // string, number, object
}

/** A Go-style message for the first mismatch, or undefined when `value` fits `shape`. */
export function shapeMismatch(value: unknown, shape: Shape): string | undefined {
  return check(value, shape, '', []);
}

/** `struct` is the innermost struct's name and `path` the field path from the top, as Go reports them. */
function check(v: unknown, s: Shape, struct: string, path: string[]): string | undefined {
  if (v === null || s === 'any') return undefined;
  const fail = (detail = jsonKind(v)) => {
    const field = path.length ? ` into Go struct field ${struct}.${path.join('.')}` : ' into Go value';
    return `json: cannot unmarshal ${detail}${field} of type ${goType(s)}`;
  };
  switch (s) {
    case 'string':
      return typeof v === 'string' ? undefined : fail();
    case 'bool':
      return typeof v === 'boolean' ? undefined : fail();
    case 'int':
    case 'uint':
      if (typeof v !== 'number') return fail();
      return Number.isInteger(v) && (s === 'int' || v >= 0) ? undefined : fail(`number ${v}`);
    case 'float':
      return typeof v === 'number' ? undefined : fail();
    case 'strslice':
      if (typeof v === 'string') return undefined;
      if (!Array.isArray(v)) return fail();
      return v.every((e) => typeof e === 'string') ? undefined : fail();
  }
  if ('list' in s) {
    if (!Array.isArray(v)) return fail();
    for (const e of v) {
      const m = check(e, s.list, struct, path);
      if (m) return m;
    }
    return undefined;
  }
  if (typeof v !== 'object' || Array.isArray(v)) return fail();
  const obj = v as Record<string, unknown>;
  if ('map' in s) {
    for (const e of Object.values(obj)) {
      const m = check(e, s.map, struct, path);
      if (m) return m;
    }
    return undefined;
  }
  for (const [k, fs] of Object.entries(s.fields)) {
    if (!(k in obj)) continue;
    const m = check(obj[k], fs, s.struct, [...path, k]);
    if (m) return m;
  }
  return undefined;
}

/** Turns the StrSlice fields of a checked body into arrays (a lone string is one element, as moby reads it). */
export function strSlices<T extends object>(body: T, keys: (keyof T)[]): T {
  for (const k of keys) if (typeof body[k] === 'string') (body as Record<keyof T, unknown>)[k] = [body[k]];
  return body;
}
