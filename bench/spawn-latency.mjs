// How long child_process.spawn() blocks the event loop as the daemon's RSS
// grows: libuv forks the whole process, so the page tables of a big heap are
// copied on every spawn. `node bench/spawn-latency.mjs [rounds]`
import { spawn } from 'node:child_process';

const rounds = Number(process.argv[2] ?? 20);
const held = [];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
for (const extraMb of [0, 100, 200, 400]) {
  // touched buffers: resident, like a daemon's heap and caches
  while (held.length < extraMb / 10) held.push(Buffer.alloc(10 << 20, 1));
  const blocked = [];
  const total = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    blocked.push(performance.now() - t0);
    await new Promise((r) => child.on('close', r));
    total.push(performance.now() - t0);
  }
  const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
  console.log(`rss ${String(rss).padStart(4)} MiB: spawn() blocks ${median(blocked).toFixed(1)} ms, spawn to exit ${median(total).toFixed(1)} ms (medians of ${rounds})`);
}
