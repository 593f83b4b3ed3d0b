import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The daemon's bundle as the build made it (dist/bundle/berthd.mjs).
const BUNDLE = resolve(fileURLToPath(import.meta.url), '../../../bundle/berthd.mjs');

/**
 * The text of a bundle file and every chunk it imports statically, and of
 * the wiring chunk the entry imports once its flags are read: what loads at boot.
 */
async function bootFiles(file: string, seen = new Map<string, string>()): Promise<Map<string, string>> {
  if (seen.has(file)) return seen;
  const text = await readFile(file, 'utf8');
  seen.set(file, text);
  for (const m of text.matchAll(/^import (?:[^'"]*? from )?"(\.[^"]+)";?$/gm)) await bootFiles(join(dirname(file), m[1]!), seen);
  if (file === BUNDLE) {
    for (const m of text.matchAll(/import\("(\.\/berthd-chunks\/wire-[^"]+)"\)/g)) await bootFiles(join(dirname(file), m[1]!), seen);
  }
  return seen;
}

test('berthd loads its builder, registry client, swarm mode, managed plugins, commander and TLS built-ins on first use, not at boot', async () => {
  const files = await bootFiles(BUNDLE);
  const boot = [...files.values()].join('\n');
  // esbuild marks each bundled source file with a `// path` comment
  assert.ok(boot.includes('// src/daemon/wire.ts'), 'the walk found the wiring');
  for (const src of ['src/daemon/builder/builder.ts', 'src/daemon/distribution/registry-client.ts', 'src/daemon/distribution/service.ts',
    'src/daemon/plugins/managed/plugin-distribution.ts', 'src/daemon/cri/start.ts',
    // issue 18: a daemon outside a swarm and without managed plugins holds none of these
    'src/daemon/wire-swarm.ts', 'src/daemon/cluster/swarm-service.ts', 'src/daemon/cluster/orchestrator.ts', 'src/daemon/networks/overlay/overlay-networks.ts',
    'src/daemon/wire-plugins.ts', 'src/daemon/plugins/managed/manager.ts']) {
    assert.ok(!boot.includes(`// ${src}\n`), `${src} is loaded at boot`);
  }
  for (const builtin of ['node:https', 'node:tls', 'node:readline']) assert.ok(!boot.includes(`from "${builtin}"`), `${builtin} is imported at boot`);
  // berthd's flags are read by flags.ts's own parser; commander only answers --help, --version and errors
  assert.ok(!/^\/\/ \S*node_modules\/commander\//m.test(boot), 'commander is loaded at boot');
});

test("berthd's bundle is ASCII, so V8 keeps its source one byte a character", async () => {
  for (const [file, text] of await bootFiles(BUNDLE)) assert.ok(!/[^\x00-\x7f]/.test(text), `${file} has a non-ASCII character`);
});
