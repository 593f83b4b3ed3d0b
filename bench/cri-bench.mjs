// Times one CRI runtime through berth's own CRI client (dist/test/support/cri-client.js),
// the same client for berthd and containerd, and measures the daemon's memory with
// many pods. Run by cri-side-by-side.sh; prints one JSON line.
//
//   node bench/cri-bench.mjs latency --socket S --n 10 --logs DIR
//   node bench/cri-bench.mjs memory --socket S --pods 50 --logs DIR --daemon-pid P --shim-match STR
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const { CriClient } = await import(join(repo, 'dist/test/support/cri-client.js'));

const [mode, ...rest] = process.argv.slice(2);
const opt = {};
for (let i = 0; i < rest.length; i += 2) opt[rest[i].replace(/^--/, '')] = rest[i + 1];
const cri = new CriClient(opt.socket);
const tag = `${process.pid}-${Date.now()}`;
let seq = 0;

const podConfig = () => {
  const i = seq++;
  return { metadata: { name: `bench-${i}`, namespace: 'bench', uid: `bench-${tag}-${i}`, attempt: 0 }, hostname: `bench-${i}`, log_directory: join(opt.logs, `${tag}-${i}`),
    // as the kubelet does: every pod under a cgroup of its own
    linux: opt['cgroup-parent'] ? { cgroup_parent: `${opt['cgroup-parent']}/pod-${tag}-${i}` } : {} };
};
const containerConfig = { metadata: { name: 'sleep', attempt: 0 }, image: { image: 'busybox:latest' }, command: ['sleep', '3600'], log_path: 'sleep.log', linux: {} };
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function runPodWithContainer() {
  const config = podConfig();
  let t = process.hrtime.bigint();
  const pod = (await cri.runtime('RunPodSandbox', { config })).pod_sandbox_id;
  const run = ms(t);
  t = process.hrtime.bigint();
  const id = (await cri.runtime('CreateContainer', { pod_sandbox_id: pod, config: containerConfig, sandbox_config: config })).container_id;
  const create = ms(t);
  const t2 = process.hrtime.bigint();
  await cri.runtime('StartContainer', { container_id: id });
  return { pod, run, create, start: ms(t2), createStart: ms(t) };
}

async function removePod(pod) {
  const t = process.hrtime.bigint();
  await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod });
  await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod });
  return ms(t);
}

/** Proportional set size (shared pages split among their users) and RSS of the processes, in MiB. */
function memory(pids) {
  let pss = 0;
  let rss = 0;
  for (const pid of pids) {
    try {
      const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      pss += Number(/^Pss:\s+(\d+)/m.exec(s)?.[1] ?? 0);
      rss += Number(/^Rss:\s+(\d+)/m.exec(s)?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return { pssMiB: +(pss / 1024).toFixed(1), rssMiB: +(rss / 1024).toFixed(1) };
}

/** The daemon, its direct children (berthd's spawner), and the shims whose command line names `match`. */
function daemonProcesses(daemonPid, match) {
  const out = [Number(daemonPid)];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.includes('containerd-shim') && cmd.includes(match)) out.push(Number(p));
      else if (ppid === Number(daemonPid) && !cmd.includes('containerd-shim')) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return [...new Set(out)];
}

if (mode === 'latency') {
  const n = Number(opt.n ?? 10);
  // one warm-up pod: images resolved, infra image made, CNI plugins in the page cache
  await removePod((await runPodWithContainer()).pod);
  const runs = [];
  for (let i = 0; i < n; i++) {
    const r = await runPodWithContainer();
    const stopRemove = await removePod(r.pod);
    runs.push({ run: r.run, create: r.create, start: r.start, createStart: r.createStart, stopRemove, sandboxLifecycle: r.run + stopRemove });
  }
  const med = (k) => +median(runs.map((r) => r[k])).toFixed(1);
  console.log(JSON.stringify({ mode, n, runPodSandbox: med('run'), containerCreate: med('create'), containerStart: med('start'), containerCreateStart: med('createStart'), stopRemovePod: med('stopRemove'), sandboxRunStopRemove: med('sandboxLifecycle') }));
} else if (mode === 'memory') {
  const pods = Number(opt.pods ?? 50);
  const before = memory(daemonProcesses(opt['daemon-pid'], opt['shim-match']));
  const made = [];
  try {
    for (let i = 0; i < pods; i++) made.push((await runPodWithContainer()).pod);
    await new Promise((r) => setTimeout(r, 3000));
    const procs = daemonProcesses(opt['daemon-pid'], opt['shim-match']);
    const withPods = memory(procs);
    console.log(JSON.stringify({ mode, pods, processes: procs.length, idle: before, withPods }));
  } finally {
    for (const pod of made) await removePod(pod).catch(() => {});
  }
}
cri.close();
