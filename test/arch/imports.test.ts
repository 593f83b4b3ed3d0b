/**
 * The folder boundaries of DESIGN.md, checked on the sources:
 * cli → client → api/oci/errdefs/lib; daemon → api/oci/errdefs/lib;
 * registry → oci/errdefs/lib; bin/ may import anything it starts.
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
  cli: ['client', 'api', 'oci', 'errdefs', 'lib'],
  daemon: ['api', 'oci', 'errdefs', 'lib'],
  registry: ['oci', 'errdefs', 'lib'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every import respects the folder boundaries', () => {
  const violations: string[] = [];
  for (const file of files(root)) {
    const top = relative(root, file).split('/')[0]!;
    if (top === 'bin' || !(top in allowed)) continue;
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/from\s+'(\.[^']+)'/g)) {
      const target = relative(root, resolve(dirname(file), m[1]!)).split('/')[0]!;
      if (target !== top && !allowed[top]!.includes(target)) violations.push(`${relative(root, file)} imports ${m[1]}`);
    }
  }
  assert.deepEqual(violations, []);
});
