// Where a service's time went, from its tasks as the manager reports them
// (GET /tasks): per task, created → the state it is in now (for a running
// task: when it started running), grouped by the second of creation, so a
// rolling update shows its batches. Both daemons keep CreatedAt and the current
// state's Status.Timestamp, nothing finer, so this is what can be compared.
//
//   node bench/services-timeline.mjs <sock> <service>
import http from 'node:http';

const [sock, name] = process.argv.slice(2);
if (!sock || !name) {
  console.error('usage: services-timeline.mjs <sock> <service>');
  process.exit(2);
}

const body = await new Promise((resolve, reject) => {
  const filters = encodeURIComponent(JSON.stringify({ service: [name] }));
  http.get({ socketPath: sock, path: `/v1.41/tasks?filters=${filters}` }, (res) => {
    let b = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (b += c));
    res.on('end', () => (res.statusCode === 200 ? resolve(b) : reject(new Error(`${res.statusCode} ${b}`))));
  }).on('error', reject);
});
const tasks = JSON.parse(body).map((t) => ({
  id: t.ID.slice(0, 10),
  slot: t.Slot,
  version: t.Version?.Index,
  desired: t.DesiredState,
  state: t.Status?.State,
  created: Date.parse(t.CreatedAt),
  at: Date.parse(t.Status?.Timestamp),
})).sort((a, b) => a.created - b.created);
if (!tasks.length) {
  console.log('no tasks');
  process.exit(0);
}

const t0 = tasks[0].created;
const s = (ms) => (ms / 1000).toFixed(2);
const med = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)] : NaN;
};
// a batch: tasks created within 1 s of the batch's first
const batches = [];
for (const t of tasks) {
  const b = batches.at(-1);
  if (b && t.created - b[0].created < 1000) b.push(t);
  else batches.push([t]);
}
for (const b of batches) {
  const running = b.filter((t) => t.state === 'running' && t.desired === 'running');
  const toRun = running.map((t) => t.at - t.created);
  const counts = {};
  for (const t of b) counts[`${t.state}/${t.desired}`] = (counts[`${t.state}/${t.desired}`] ?? 0) + 1;
  const states = Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ');
  console.log(`+${s(b[0].created - t0)} s: ${b.length} created (state/desired: ${states})`
    + (running.length ? `; created → running median ${s(med(toRun))} s, the last at +${s(Math.max(...running.map((t) => t.at)) - t0)} s` : ''));
}
