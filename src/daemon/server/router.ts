/**
 * A route table as data. Patterns are `/`-separated segments: literals,
 * `:name` (one segment) and `:name+` (one or more segments, for image names
 * such as `localhost:5000/team/app:1`), which may be followed by literals.
 */
export interface RouteMatch<H> {
  handler: H;
  params: Record<string, string>;
}

interface CompiledRoute<H> {
  method: string;
  segments: string[];
  greedy: number; // index of the `:name+` segment, or -1
  handler: H;
}

export class Router<H> {
  private readonly routes: CompiledRoute<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    const segments = pattern.split('/').filter(Boolean);
    const greedy = segments.findIndex((s) => s.startsWith(':') && s.endsWith('+'));
    this.routes.push({ method, segments, greedy, handler });
    return this;
  }

  /** First matching route in insertion order; `undefined` when none. */
  match(method: string, path: string): RouteMatch<H> | undefined {
    const parts = path.split('/').filter(Boolean);
    let decoded: string[];
    try {
      decoded = parts.map(decodeURIComponent);
    } catch {
      return undefined;
    }
    const m = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
    for (const want of m) {
      for (const r of this.routes) {
        if (r.method !== want) continue;
        const params = matchSegments(r, decoded);
        if (params) return { handler: r.handler, params };
      }
    }
    return undefined;
  }

  /** True if some route matches the path with another method (for 405 vs 404). */
  hasPath(path: string): boolean {
    return ['GET', 'POST', 'PUT', 'DELETE', 'HEAD'].some((m) => this.match(m, path));
  }
}

function matchSegments<H>(r: CompiledRoute<H>, parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const segs = r.segments;
  if (r.greedy === -1 ? parts.length !== segs.length : parts.length < segs.length) return undefined;
  const tail = segs.length - r.greedy - 1;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    if (i === r.greedy) {
      params[s.slice(1, -1)] = parts.slice(i, parts.length - tail).join('/');
      continue;
    }
    const p = r.greedy !== -1 && i > r.greedy ? parts[parts.length - (segs.length - i)]! : parts[i]!;
    if (s.startsWith(':')) params[s.slice(1)] = p;
    else if (s !== p) return undefined;
  }
  return params;
}
