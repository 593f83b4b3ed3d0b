/** Every error code raised in src/ is documented in docs/errors.md. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

test('every error code is in docs/errors.md', () => {
  const doc = readFileSync(join(repo, 'docs/errors.md'), 'utf8');
  const missing = new Set<string>();
  for (const f of files(join(repo, 'src'))) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/(?:new [A-Z][A-Za-z]*|super)\('([a-z][a-z_]*\.[a-z_0-9]+)'/g)) {
      if (!doc.includes(`\`${m[1]}\``)) missing.add(m[1]!);
    }
  }
  assert.deepEqual([...missing], []);
});
