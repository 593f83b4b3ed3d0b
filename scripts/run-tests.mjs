// Runs the compiled tests with node:test. Node 20 does not expand globs, so
// the files are listed here. `unit` = tests beside the code (src/**/x.test.js,
// no root needed); `e2e` = test/** (real daemon, runc, overlay, docker CLI).
//
// e2e files run one at a time, in two lanes side by side: the cluster files
// (each node in network namespaces of its own, on a LAN with a random subnet
// and random bridge names: nothing of theirs is in the host's namespace) and
// the rest. Most of a cluster file's time is waiting on leases, heartbeats
// and elections, so the lanes overlap well on two cores. The cluster lane's
// report is printed after the host lane's, whole, so the two never interleave.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Runs node --test over `files`; its report goes to `out` (a stream), or to ours. Resolves to its exit code. */
function runFiles(files, concurrency, out) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], { stdio: ['ignore', out ? 'pipe' : 'inherit', out ? 'pipe' : 'inherit'] });
    if (out) {
      child.stdout.pipe(out, { end: false });
      child.stderr.pipe(out, { end: false });
    }
    child.on('close', (code) => resolve(code ?? 1));
  });
}

const usesCluster = (file) => readFileSync(file, 'utf8').includes('/support/cluster.js');

const which = process.argv[2] ?? 'all';
const filter = process.argv[3];
const pick = (files) => (filter ? files.filter((f) => f.includes(filter)) : files);
let failed = false;

if (which === 'all' || which === 'unit') {
  const files = pick(find('dist/src'));
  if (files.length && (await runFiles(files, 2)) !== 0) failed = true;
}
if (which === 'all' || which === 'e2e') {
  const files = pick(find('dist/test'));
  const cluster = files.filter(usesCluster);
  const host = files.filter((f) => !cluster.includes(f));
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-report-'));
  const report = join(dir, 'cluster.tap');
  const sink = createWriteStream(report);
  const lanes = [host.length ? runFiles(host, 1) : 0, cluster.length ? runFiles(cluster, 1, sink) : 0];
  const codes = await Promise.all(lanes);
  await new Promise((r) => sink.end(r));
  if (cluster.length) process.stdout.write(readFileSync(report));
  rmSync(dir, { recursive: true, force: true });
  if (codes.some((c) => c !== 0)) failed = true;
}
process.exit(failed ? 1 : 0);
