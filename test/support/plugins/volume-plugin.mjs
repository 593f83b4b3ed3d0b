#!/usr/bin/env node
/**
 * A legacy volume plugin for the tests: serves Docker's VolumeDriver
 * protocol on a unix socket, keeps each volume as a directory under
 * <state>/volumes, and appends every call to <state>/calls.jsonl so a test
 * can check what the daemon asked (and with which mount ids).
 *
 *   node volume-plugin.mjs <socket> <state-dir> [--scope global] [--hang Method] [--garbage Method] [--implements X]
 *
 * A volume created with `-o fail=MSG` makes Create answer 500 {"Err": MSG};
 * `-o softfail=MSG` answers 200 {"Err": MSG}.
 */
import { appendFileSync, mkdirSync, readdirSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [socket, state, ...rest] = process.argv.slice(2);
const opt = (name) => {
  const i = rest.indexOf(`--${name}`);
  return i === -1 ? undefined : rest[i + 1];
};
const hang = opt('hang');
const garbage = opt('garbage');
const scope = opt('scope') ?? 'local';
const implementsList = (opt('implements') ?? 'VolumeDriver').split(',');
const volumes = join(state, 'volumes');
mkdirSync(volumes, { recursive: true });
const mounts = new Map(); // volume -> Set(ids)

function record(method, body) {
  appendFileSync(join(state, 'calls.jsonl'), `${JSON.stringify({ method, body })}\n`);
}
function optsOf(name) {
  const f = join(volumes, `${name}.opts.json`);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : {};
}

const handlers = {
  'Plugin.Activate': () => ({ Implements: implementsList }),
  'VolumeDriver.Capabilities': () => ({ Capabilities: { Scope: scope } }),
  'VolumeDriver.Create': (b) => {
    if (b.Opts?.fail) return [500, { Err: b.Opts.fail }];
    if (b.Opts?.softfail) return { Err: b.Opts.softfail };
    mkdirSync(join(volumes, b.Name), { recursive: true });
    writeFileSync(join(volumes, `${b.Name}.opts.json`), JSON.stringify(b.Opts ?? {}));
    return { Err: '' };
  },
  'VolumeDriver.Remove': (b) => {
    if (!existsSync(join(volumes, b.Name))) return [500, { Err: `no such volume ${b.Name}` }];
    if (mounts.get(b.Name)?.size) return [500, { Err: `volume ${b.Name} is mounted` }];
    rmSync(join(volumes, b.Name), { recursive: true, force: true });
    rmSync(join(volumes, `${b.Name}.opts.json`), { force: true });
    return {};
  },
  'VolumeDriver.Mount': (b) => {
    if (!existsSync(join(volumes, b.Name))) return [500, { Err: `no such volume ${b.Name}` }];
    if (!mounts.has(b.Name)) mounts.set(b.Name, new Set());
    mounts.get(b.Name).add(b.ID);
    return { Mountpoint: join(volumes, b.Name) };
  },
  'VolumeDriver.Unmount': (b) => {
    mounts.get(b.Name)?.delete(b.ID);
    return {};
  },
  'VolumeDriver.Path': (b) => ({ Mountpoint: join(volumes, b.Name) }),
  'VolumeDriver.Get': (b) => {
    if (!existsSync(join(volumes, b.Name))) return [500, { Err: `no such volume ${b.Name}` }];
    return { Volume: { Name: b.Name, Mountpoint: join(volumes, b.Name), Status: { mounts: mounts.get(b.Name)?.size ?? 0, opts: optsOf(b.Name) } } };
  },
  'VolumeDriver.List': () => ({
    Volumes: readdirSync(volumes, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => ({ Name: e.name, Mountpoint: join(volumes, e.name) })),
  }),
};

const server = createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', () => {
    const method = req.url.slice(1);
    const body = raw.trim() ? JSON.parse(raw) : {};
    record(method, { ...body, accept: req.headers.accept });
    if (method === hang) return; // never answers
    if (method === garbage) {
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json' });
      return res.end('this is not json');
    }
    const h = handlers[method];
    if (!h) {
      res.writeHead(404);
      return res.end('404 page not found\n');
    }
    const out = h(body);
    const [status, doc] = Array.isArray(out) ? out : [200, out];
    res.writeHead(status, { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json' });
    res.end(`${JSON.stringify(doc)}\n`);
  });
});
rmSync(socket, { force: true });
server.listen(socket, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
