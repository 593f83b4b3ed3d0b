// Waits, over one daemon's Engine API socket, until a service reaches a state,
// for services-side-by-side.sh. One process polling every 100 ms instead of a
// docker CLI per poll: each CLI start costs ~0.1 s of CPU on the same 2 cores
// as the daemons being timed.
//
//   node bench/services-wait.mjs replicas <sock> <service> <n>
//       `service ls` shows n/n: ServiceStatus.RunningTasks of GET /services?status=true
//   node bench/services-wait.mjs running <sock> <service> <n> [<node id>]
//       n tasks desired running and running, none on <node id> (a killed node,
//       whose tasks `service ls` keeps counting until the node is marked down)
//   node bench/services-wait.mjs updated <sock> <service>
//       UpdateStatus.State "completed" (exit 3 at "paused" or a rollback)
//   node bench/services-wait.mjs empty <sock>...
//       no containers left on any of these daemons (after `service rm`)
//
// TIMEOUT_S (default 300): exit 1 after it, with the last state on stderr.
import http from 'node:http';

const API = '/v1.41';
const [mode, ...args] = process.argv.slice(2);
const timeoutMs = Number(process.env.TIMEOUT_S ?? 300) * 1000;

function get(sock, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: sock, path: API + path, timeout: 10000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode} ${body.trim()}`));
        else resolve(JSON.parse(body));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer in 10 s`)));
    req.on('error', reject);
  });
}

const q = (filters) => encodeURIComponent(JSON.stringify(filters));

// each check returns true when done, or a string saying where it is
const checks = {
  async replicas(sock, name, n) {
    const list = await get(sock, '/services?status=true');
    const s = list.find((x) => x.Spec?.Name === name);
    const running = s?.ServiceStatus?.RunningTasks ?? 0;
    return running === Number(n) || `${running}/${n}`;
  },
  async running(sock, name, n, deadNode = '') {
    const tasks = await get(sock, `/tasks?filters=${q({ service: [name], 'desired-state': ['running'] })}`);
    const live = tasks.filter((t) => t.Status?.State === 'running' && t.NodeID !== deadNode).length;
    return live >= Number(n) || `${live}/${n} running elsewhere`;
  },
  async updated(sock, name) {
    const s = await get(sock, `/services/${encodeURIComponent(name)}`);
    const state = s.UpdateStatus?.State ?? '(none)';
    if (state === 'paused' || state.startsWith('rollback')) {
      console.error(`update ${state}: ${s.UpdateStatus?.Message ?? ''}`);
      process.exit(3);
    }
    return state === 'completed' || state;
  },
  async empty(...socks) {
    let left = 0;
    for (const sock of socks) left += (await get(sock, '/containers/json?all=1')).length;
    return left === 0 || `${left} containers left`;
  },
};

const check = checks[mode];
if (!check || args.length < 1) {
  console.error('usage: services-wait.mjs replicas|running|updated|empty <sock> ...');
  process.exit(2);
}
const end = Date.now() + timeoutMs;
let last = '';
for (;;) {
  try {
    const r = await check(...args);
    if (r === true) process.exit(0);
    last = r;
  } catch (err) {
    // a manager busy or a socket gone for a moment: keep polling until the timeout
    last = err.message;
  }
  if (Date.now() > end) {
    console.error(`${mode} ${args.join(' ')}: not reached in ${timeoutMs / 1000} s (last: ${last})`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 100));
}
