#!/usr/bin/env node
// A small Engine API load client (node:http/https only), because wrk speaks
// neither unix sockets nor TLS client certificates. Prints one JSON line.
//
//   node bench/api-load.mjs --unix /run/berth.sock --path /_ping --mode latency --requests 2000
//   node bench/api-load.mjs --tls 127.0.0.1:2376 --certs DIR --path /v1.41/containers/json?all=1 --mode rate --clients 50 --seconds 5
//   --mode handshake: a new TLS connection per request (the cost of a fresh client)
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    unix: { type: 'string' }, tls: { type: 'string' }, certs: { type: 'string' },
    path: { type: 'string', default: '/_ping' }, mode: { type: 'string', default: 'latency' },
    requests: { type: 'string', default: '2000' }, clients: { type: 'string', default: '50' }, seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '200' },
  },
});

const clients = o.mode === 'rate' ? Number(o.clients) : 1;
let request;
let base;
let agent;
if (o.unix) {
  agent = new HttpAgent({ keepAlive: true, maxSockets: clients });
  request = httpRequest;
  base = { socketPath: o.unix, headers: { Host: 'api.moby.localhost' } };
} else {
  const [host, port] = o.tls.split(':');
  const tls = { ca: readFileSync(join(o.certs, 'ca.pem')), cert: readFileSync(join(o.certs, 'cert.pem')), key: readFileSync(join(o.certs, 'key.pem')), minVersion: 'TLSv1.2' };
  agent = o.mode === 'handshake' ? false : new HttpsAgent({ keepAlive: true, maxSockets: clients, ...tls });
  request = httpsRequest;
  base = { host, port: Number(port), ...tls };
}

function once() {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const req = request({ ...base, agent, path: o.path }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t) / 1e6) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))];
for (let i = 0; i < Number(o.warmup); i++) await once();
if (o.mode === 'rate') {
  const until = Date.now() + Number(o.seconds) * 1000;
  let done = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < until) {
      await once();
      done++;
    }
  }));
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ mode: 'rate', path: o.path, clients, requests: done, rps: Math.round(done / s) }));
} else {
  const xs = [];
  for (let i = 0; i < Number(o.requests); i++) xs.push(await once());
  xs.sort((a, b) => a - b);
  console.log(JSON.stringify({ mode: o.mode, path: o.path, requests: xs.length, p50_ms: +pct(xs, 0.5).toFixed(3), p99_ms: +pct(xs, 0.99).toFixed(3) }));
}
agent?.destroy?.();
