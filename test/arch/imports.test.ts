/**
 * The import rules of DESIGN.md, checked on the sources. Folders:
 * cli → console → client → api/oci/errdefs/lib; daemon → api/oci/errdefs/lib;
 * registry → oci/errdefs/lib; bin/ may import anything it starts.
 * Inside the daemon: server → (backend interfaces) → services → stores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

const allowed: Record<string, string[]> = {
  errdefs: [],
  lib: ['errdefs'],
  oci: ['errdefs', 'lib'],
  api: ['oci', 'errdefs', 'lib'],
  client: ['api', 'oci', 'errdefs', 'lib'],
  cli: ['client', 'console', 'api', 'oci', 'errdefs', 'lib'],
  console: ['client', 'api', 'oci', 'errdefs', 'lib'],
  daemon: ['api', 'oci', 'errdefs', 'lib'],
  registry: ['oci', 'errdefs', 'lib'],
};

/** A rule: a file `from` matches may import only targets `may` accepts (paths relative to src/, with .ts). */
interface Rule {
  name: string;
  /** One line: why the rule exists. */
  why: string;
  from: (file: string) => boolean;
  may: (target: string) => boolean;
  /** An import the rule must refuse, so a rule that matches nothing fails here rather than passing silently. */
  counterExample: { file: string; target: string };
}

const under = (...dirs: string[]) => (path: string) => dirs.some((d) => path.startsWith(d + '/'));

const rules: Rule[] = [
  {
    name: 'daemon/server imports only api, oci, errdefs, lib and server/ itself (where the backend.ts interfaces are)',
    why: 'routes translate HTTP to one backend call; a service or store imported directly bypasses the small interface',
    from: under('daemon/server'),
    may: under('api', 'oci', 'errdefs', 'lib', 'daemon/server'),
    counterExample: { file: 'daemon/server/routes/containers/filesystem-routes.ts', target: 'daemon/layers/upper-dir.ts' },
  },
  {
    name: 'stores never import the runtime',
    why: 'stores hand out plans as data, such as a Mount; only services start processes',
    from: (f) => under('daemon/content', 'daemon/layers', 'daemon/images', 'daemon/volumes', 'daemon/networks')(f) || f === 'daemon/containers/container-store.ts',
    may: (t) => !under('daemon/runtime')(t),
    counterExample: { file: 'daemon/layers/layer-store.ts', target: 'daemon/runtime/runtime.ts' },
  },
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a source file (static, re-exports, side-effect and `import()`), as paths relative to src/ ending in .ts. */
function importsOf(file: string): { spec: string; target: string }[] {
  const src = readFileSync(file, 'utf8');
  const specs = [...src.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.[^']+)'/g)].map((m) => m[1]!);
  return specs.map((spec) => ({ spec, target: relative(root, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') }));
}

const sources = files(root).map((f) => ({ path: relative(root, f), imports: importsOf(f) }));

test('every import respects the folder boundaries', () => {
  const violations: string[] = [];
  for (const { path, imports } of sources) {
    const top = path.split('/')[0]!;
    if (top === 'bin' || !(top in allowed)) continue;
    for (const { spec, target } of imports) {
      const to = target.split('/')[0]!;
      if (to !== top && !allowed[top]!.includes(to)) violations.push(`${path} imports ${spec}`);
    }
  }
  assert.deepEqual(violations, []);
});

for (const rule of rules) {
  test(`${rule.name}: ${rule.why}`, () => {
    const violations = sources.flatMap(({ path, imports }) =>
      rule.from(path) ? imports.filter((i) => !rule.may(i.target)).map((i) => `${path} imports ${i.spec}`) : [],
    );
    assert.deepEqual(violations, []);
    const { file, target } = rule.counterExample;
    assert.ok(rule.from(file) && !rule.may(target), `the rule no longer refuses ${file} importing ${target}`);
  });
}
