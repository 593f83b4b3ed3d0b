// Runs the compiled tests with node:test. Node 20 does not expand globs, so
// the files are listed here. `unit` = tests beside the code (src/**/x.test.js,
// no root needed); `e2e` = test/** (real daemon, runc, overlay, docker CLI).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  let out = [];
  let names = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names.sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (n.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const which = process.argv[2] ?? 'all';
const filter = process.argv[3];
const suites = [];
if (which === 'all' || which === 'unit') suites.push({ files: find('dist/src'), concurrency: 2 });
if (which === 'all' || which === 'e2e') suites.push({ files: find('dist/test'), concurrency: 1 });

let failed = false;
for (const s of suites) {
  const files = filter ? s.files.filter((f) => f.includes(filter)) : s.files;
  if (files.length === 0) continue;
  const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${s.concurrency}`, ...files], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
