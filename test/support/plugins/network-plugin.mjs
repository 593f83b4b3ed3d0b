#!/usr/bin/env node
/**
 * A legacy network + IPAM plugin for the tests (Docker's remote driver
 * protocol). Run it in the daemon's network namespace: for each network it
 * owns a bridge `nb<6 hex>` holding the network's gateway address; each
 * endpoint is a veth pair whose host end `nh<8 hex>` sits on that bridge
 * and whose other end `nc<8 hex>` is handed to the daemon at Join. Every
 * call is appended to <state>/calls.jsonl.
 *
 *   node network-plugin.mjs <socket> <state-dir> [--fail Method] [--softfail Method] [--hang Method] [--pool 10.77.0.0/24]
 *
 * --fail answers 500 {"Err": "<Method> refused by the test plugin"}; --softfail answers 200 with it in Err (IPAM: Error).
 * IPAM hands out addresses from .10 upwards (host-local would start at .2), the gateway at .1.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [socket, state, ...rest] = process.argv.slice(2);
const opts = (name) => rest.flatMap((v, i) => (rest[i - 1] === `--${name}` ? [v] : []));
const fail = new Set(opts('fail'));
const softfail = new Set(opts('softfail'));
const hang = new Set(opts('hang'));
const defaultPool = opts('pool')[0] ?? '10.77.0.0/24';
mkdirSync(state, { recursive: true });

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const networks = new Map(); // id -> { bridge, gateway, prefix }
const endpoints = new Map(); // eid -> { nid, host, cont, mac }
const pools = new Map(); // poolId -> { base: [a,b,c], prefix, used: Set<number> }
let poolSeq = 0;
let macSeq = 0;

const toInt = (s) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const toIp = (n) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const hex = (s, n) => s.replace(/[^0-9a-f]/g, '').slice(0, n);

const handlers = {
  'Plugin.Activate': () => ({ Implements: ['NetworkDriver', 'IpamDriver'] }),
  'NetworkDriver.GetCapabilities': () => ({ Scope: 'local', ConnectivityScope: 'local' }),
  'NetworkDriver.CreateNetwork': (b) => {
    const v4 = b.IPv4Data?.[0];
    const bridge = `nb${hex(b.NetworkID, 6)}`;
    ip('link', 'add', 'name', bridge, 'type', 'bridge');
    if (v4?.Gateway) ip('addr', 'add', v4.Gateway, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    networks.set(b.NetworkID, { bridge, gateway: v4?.Gateway?.split('/')[0] ?? '' });
    return {};
  },
  'NetworkDriver.DeleteNetwork': (b) => {
    const n = networks.get(b.NetworkID);
    if (n) ip('link', 'del', n.bridge);
    networks.delete(b.NetworkID);
    return {};
  },
  'NetworkDriver.CreateEndpoint': (b) => {
    const n = networks.get(b.NetworkID);
    if (!n) return [500, { Err: `no network ${b.NetworkID}` }];
    const tag = hex(b.EndpointID, 8);
    const mac = `02:42:ee:00:00:${(++macSeq).toString(16).padStart(2, '0')}`;
    ip('link', 'add', `nh${tag}`, 'type', 'veth', 'peer', 'name', `nc${tag}`);
    ip('link', 'set', `nh${tag}`, 'master', n.bridge);
    ip('link', 'set', `nh${tag}`, 'up');
    endpoints.set(b.EndpointID, { nid: b.NetworkID, host: `nh${tag}`, cont: `nc${tag}`, mac });
    return { Interface: { MacAddress: mac } };
  },
  'NetworkDriver.EndpointOperInfo': (b) => ({ Value: { host: endpoints.get(b.EndpointID)?.host } }),
  'NetworkDriver.Join': (b) => {
    const ep = endpoints.get(b.EndpointID);
    if (!ep) return [500, { Err: `no endpoint ${b.EndpointID}` }];
    const n = networks.get(ep.nid);
    return {
      InterfaceName: { SrcName: ep.cont, DstPrefix: 'eth' },
      Gateway: n.gateway,
      StaticRoutes: [{ Destination: '10.199.0.0/16', RouteType: 0, NextHop: n.gateway }],
    };
  },
  'NetworkDriver.Leave': () => ({}),
  'NetworkDriver.DeleteEndpoint': (b) => {
    const ep = endpoints.get(b.EndpointID);
    // the pair goes with its host end, wherever the other end is
    if (ep) {
      try {
        ip('link', 'del', ep.host);
      } catch {
        // gone with the sandbox already
      }
    }
    endpoints.delete(b.EndpointID);
    return {};
  },
  'NetworkDriver.DiscoverNew': () => ({}),
  'NetworkDriver.DiscoverDelete': () => ({}),

  'IpamDriver.GetCapabilities': () => ({ RequiresMACAddress: false }),
  'IpamDriver.GetDefaultAddressSpaces': () => ({ LocalDefaultAddressSpace: 'tlocal', GlobalDefaultAddressSpace: 'tglobal' }),
  'IpamDriver.RequestPool': (b) => {
    const pool = b.Pool || defaultPool;
    const [addr, prefix] = pool.split('/');
    const id = `tpool-${++poolSeq}`;
    pools.set(id, { base: toInt(addr), prefix: Number(prefix), used: new Set() });
    return { PoolID: id, Pool: pool, Data: {} };
  },
  'IpamDriver.ReleasePool': (b) => {
    pools.delete(b.PoolID);
    return {};
  },
  'IpamDriver.RequestAddress': (b) => {
    const p = pools.get(b.PoolID);
    if (!p) return [500, { Err: `no pool ${b.PoolID}` }];
    let n;
    if (b.Address) n = toInt(b.Address);
    else if (b.Options?.RequestAddressType === 'com.docker.network.gateway') n = p.base + 1;
    else for (n = p.base + 10; p.used.has(n); n++);
    if (p.used.has(n)) return [500, { Err: `address ${toIp(n)} in use` }];
    p.used.add(n);
    return { Address: `${toIp(n)}/${p.prefix}`, Data: {} };
  },
  'IpamDriver.ReleaseAddress': (b) => {
    pools.get(b.PoolID)?.used.delete(toInt(b.Address));
    return {};
  },
};

const server = createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    const method = req.url.slice(1);
    const body = raw.trim() ? JSON.parse(raw) : {};
    appendFileSync(join(state, 'calls.jsonl'), `${JSON.stringify({ method, body })}\n`);
    if (hang.has(method)) return; // never answers
    // a failed call answers 500 {"Err"} (go-plugins-helpers does so for IPAM too); a 200 answer's error field is Err, or Error for IPAM
    const softField = method.startsWith('IpamDriver.') ? 'Error' : 'Err';
    const send = (status, doc) => {
      res.writeHead(status, { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json' });
      res.end(`${JSON.stringify(doc)}\n`);
    };
    if (fail.has(method)) return send(500, { Err: `${method} refused by the test plugin` });
    if (softfail.has(method)) return send(200, { [softField]: `${method} refused by the test plugin` });
    const h = handlers[method];
    if (!h) {
      res.writeHead(404);
      return res.end('404 page not found\n');
    }
    try {
      const out = h(body);
      const [status, doc] = Array.isArray(out) ? out : [200, out];
      send(status, doc);
    } catch (err) {
      send(500, { Err: `${method}: ${err.stderr?.toString().trim() || err.message}` });
    }
  });
});
rmSync(socket, { force: true });
server.listen(socket, () => process.stdout.write('ready\n'));
// a clean stop takes down what the plugin made (a test that failed half-way)
process.on('SIGTERM', () => {
  for (const ep of endpoints.values()) {
    try {
      ip('link', 'del', ep.host);
    } catch {
      // gone
    }
  }
  for (const n of networks.values()) {
    try {
      ip('link', 'del', n.bridge);
    } catch {
      // gone
    }
  }
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
