/**
 * The Engine API `filters` query parameter, read once and interpreted by one
 * set of rules (moby's api/types/filters.Args): every list, prune and the
 * event stream use this type instead of a map of their own.
 *
 *   filters={"label":["env=prod"],"label!":["tmp"],"until":["1h30m"]}
 *   filters={"dangling":{"true":true}}          // the older map-of-bool form
 *
 *   const f = Filters.parse(raw).accept(['label', 'label!', 'until']); // `invalid filter 'foo'` otherwise
 *   const until = f.until();                                       // ms since the epoch, or undefined
 *   const keep = f.labels(n.labels) && !createdAfter(n.created, until);
 *
 * Values of one key are a set: `label` needs every pair (AND), `label!`
 * leaves out only what carries every one of its pairs, `name`, `id`,
 * `driver` need any one value (OR); keys are ANDed. Every error is an
 * InvalidParameter (400) worded as dockerd words it. The CLI builds the same
 * parameter from its `--filter k=v` flags: `Filters.fromFlags(flags).toQuery()`.
 */
import { InvalidParameter } from '../errdefs/index.js';
import { timestampMs } from '../lib/go-time.js';
import { linearRegExp } from '../lib/linear-regexp.js';

function invalid(message: string): InvalidParameter {
  return new InvalidParameter('filter.invalid', message);
}

/** moby's invalidFilter: `invalid filter 'key'`, or with Go's `%s` of the values, `invalid filter 'key=[a b]'`. */
function invalidFilter(key: string, values?: string[]): InvalidParameter {
  return invalid(values === undefined ? `invalid filter '${key}'` : `invalid filter '${key}=[${values.join(' ')}]'`);
}

export class Filters {
  private readonly fields: ReadonlyMap<string, readonly string[]>;

  constructor(fields: Iterable<[string, Iterable<string>]> | Record<string, Iterable<string>> = []) {
    const entries = Symbol.iterator in fields ? [...(fields as Iterable<[string, Iterable<string>]>)] : Object.entries(fields);
    // a set per key, in first-seen order, as Go's map[string]map[string]bool
    this.fields = new Map(entries.map(([k, vs]) => [k, [...new Set(vs)]]));
  }

  /**
   * The query parameter: a JSON object of lists (`{"label":["a"]}`) or of
   * maps to booleans (`{"label":{"a":true}}`, values mapped to false are
   * left out); absent or empty is no filter.
   */
  static parse(raw: string | null | undefined): Filters {
    if (!raw) return new Filters();
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw invalid(`invalid filter '${raw}'`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(`invalid filter '${raw}'`);
    const out: [string, string[]][] = [];
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (Array.isArray(v)) out.push([k, v.map(String)]);
      else if (v && typeof v === 'object') out.push([k, Object.entries(v).filter(([, on]) => on).map(([name]) => name)]);
      else throw invalid(`invalid filter '${raw}'`);
    }
    return new Filters(out);
  }

  /**
   * The client side: `--filter key=value` flags as the docker CLI reads
   * them (the key trimmed and lower-cased, the value as given).
   */
  static fromFlags(flags: string[]): Filters {
    const out: [string, string[]][] = [];
    for (const flag of flags) {
      const eq = flag.indexOf('=');
      if (eq <= 0) throw new InvalidParameter('filter.bad_format', 'bad format of filter (expected name=value)');
      out.push([flag.slice(0, eq).trim().toLowerCase(), [flag.slice(eq + 1)]]);
    }
    const merged = new Map<string, string[]>();
    for (const [k, [v]] of out) merged.set(k, [...(merged.get(k) ?? []), v!]);
    return new Filters(merged);
  }

  /** The query parameter as the docker CLI sends it (the map-of-bool form); undefined when there is no filter. */
  toQuery(): string | undefined {
    if (this.fields.size === 0) return undefined;
    return JSON.stringify(Object.fromEntries([...this.fields].map(([k, vs]) => [k, Object.fromEntries(vs.map((v) => [v, true]))])));
  }

  get size(): number {
    return this.fields.size;
  }

  keys(): string[] {
    return [...this.fields.keys()];
  }

  /** Is the key given at all (even with no values)? moby's Contains. */
  has(key: string): boolean {
    return this.fields.has(key);
  }

  /** The values of a key; empty when it is not given. */
  get(key: string): string[] {
    return [...(this.fields.get(key) ?? [])];
  }

  /** A copy without some keys (a prune that has read `dangling` itself passes the rest on). */
  without(...keys: string[]): Filters {
    return new Filters([...this.fields].filter(([k]) => !keys.includes(k)));
  }

  toJSON(): Record<string, string[]> {
    return Object.fromEntries([...this.fields].map(([k, vs]) => [k, [...vs]]));
  }

  /** moby's Validate: every key must be one the endpoint knows, else `invalid filter 'key'`. Returns this. */
  accept(allowed: Iterable<string>): this {
    const ok = new Set(allowed);
    for (const key of this.fields.keys()) if (!ok.has(key)) throw invalidFilter(key);
    return this;
  }

  /**
   * moby's MatchKVList: true when the key has no values; otherwise every
   * value (`k` or `k=v`) must be among `labels`.
   */
  matchKVList(key: string, labels: Record<string, string> | null | undefined): boolean {
    const want = this.fields.get(key) ?? [];
    if (want.length === 0) return true;
    if (!labels) return false;
    return want.every((w) => {
      const eq = w.indexOf('=');
      const k = eq === -1 ? w : w.slice(0, eq);
      if (!Object.prototype.hasOwnProperty.call(labels, k)) return false;
      return eq === -1 || labels[k] === w.slice(eq + 1);
    });
  }

  /**
   * `label` and `label!` together, as dockerd's matchLabels: every `label`
   * matches, and the `label!` values do not all match (an object is left
   * out only when it carries every one of them).
   */
  labels(labels: Record<string, string> | null | undefined): boolean {
    if (!this.matchKVList('label', labels)) return false;
    return !(this.get('label!').length > 0 && this.matchKVList('label!', labels));
  }

  /** moby's ExactMatch: no values, or `source` is one of them. */
  exact(key: string, source: string): boolean {
    const vs = this.fields.get(key);
    return !vs || vs.length === 0 || vs.includes(source);
  }

  /** moby's FuzzyMatch: no values, or one of them is `source` or a prefix of it (ids). */
  prefix(key: string, source: string): boolean {
    const vs = this.fields.get(key);
    return !vs || vs.length === 0 || vs.some((v) => source.startsWith(v));
  }

  /**
   * moby's Match: no values, or one is `source` exactly or a regular
   * expression found in it (names); a value that is no valid expression only
   * matches exactly.
   */
  match(key: string, source: string): boolean {
    const vs = this.fields.get(key);
    if (!vs || vs.length === 0 || vs.includes(source)) return true;
    return vs.some((v) => {
      try {
        return linearRegExp(v).test(source);
      } catch {
        return false;
      }
    });
  }

  /**
   * moby's GetBoolOrDefault: `true`/`1` or `false`/`0` (exactly those);
   * anything else, both at once or no value is `invalid filter 'key=[…]'`.
   */
  bool(key: string, dflt: boolean): boolean {
    const vs = this.fields.get(key);
    if (vs === undefined) return dflt;
    if (vs.length === 0) throw invalidFilter(key);
    const isFalse = vs.includes('0') || vs.includes('false');
    const isTrue = vs.includes('1') || vs.includes('true');
    if (isFalse === isTrue) throw invalidFilter(key, [...vs]);
    return isTrue;
  }

  /**
   * The one `until` (prunes, `images`): unix seconds, an RFC 3339 time or a
   * Go duration ago (`1h30m`), as ms since the epoch; undefined when absent.
   */
  until(now = Date.now()): number | undefined {
    const vs = this.fields.get('until');
    if (!vs || vs.length === 0) return undefined;
    if (vs.length > 1) throw invalid('more than one until filter specified');
    const t = timestampMs(vs[0]!, now);
    if (t === undefined) throw invalid(`invalid filter 'until=${vs[0]}'`);
    return t;
  }

  /** An error about one value of a key that the endpoint checks itself (`status=foo`, `type=x`). */
  static invalid(message: string): InvalidParameter {
    return invalid(message);
  }
}

/**
 * Does a time (an ISO string or ms) fall after `until`? What every prune
 * and `images --filter until=` leaves out (dockerd: `Created.After(until)`).
 */
export function createdAfter(created: string | number, until: number | undefined): boolean {
  if (until === undefined) return false;
  const t = typeof created === 'number' ? created : Date.parse(created);
  return t > until;
}
