// Runs the compiled tests with node:test. Node 20 does not expand globs, so
// the files are listed here. `unit` = tests beside the code (src/**/x.test.js,
// no root needed); `e2e` = test/** (real daemon, runc, overlay, docker CLI).
//
// e2e files run one at a time, in three lanes side by side: the cluster files
// (each node in network namespaces of its own, on a LAN with a random subnet
// and random bridge names: nothing of theirs is in the host's namespace);
// the console and CRI files, which drive one daemon of their own through a
// browser or a gRPC client and check only that daemon's leftovers, never the
// host's; and the rest. Most of a cluster file's time is waiting on leases,
// heartbeats and elections, and much of a browser file's on the browser, so
// the lanes overlap well on two cores. The side lanes' reports are printed
// after the host lane's, each whole, so they never interleave.
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

const uses = (file, ...modules) => { const src = readFileSync(file, 'utf8'); return modules.some((m) => src.includes(m)); };

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
  const cluster = files.filter((f) => uses(f, '/support/cluster.js'));
  const clients = files.filter((f) => !cluster.includes(f) && uses(f, '/support/console.js', '/support/cri-client.js', '/support/cri-pod.js'));
  const host = files.filter((f) => !cluster.includes(f) && !clients.includes(f));
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-report-'));
  const side = [cluster, clients].filter((lane) => lane.length).map((lane, i) => {
    const report = join(dir, `lane${i}.tap`);
    return { report, sink: createWriteStream(report), lane };
  });
  const codes = await Promise.all([host.length ? runFiles(host, 1) : 0, ...side.map((s) => runFiles(s.lane, 1, s.sink))]);
  for (const s of side) {
    await new Promise((r) => s.sink.end(r));
    process.stdout.write(readFileSync(s.report));
  }
  rmSync(dir, { recursive: true, force: true });
  if (codes.some((c) => c !== 0)) failed = true;
}
process.exit(failed ? 1 : 0);
