/**
 * CNCF distribution (Debian's docker-registry) on 127.0.0.1 for tests, with
 * anonymous, htpasswd (Basic) or token auth; a token server that signs JWTs
 * the registry verifies; and a fault proxy that corrupts or cuts blob
 * downloads.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makeCerts } from './certs.js';
import { freePort } from './net.js';

export interface Registry {
  /** `127.0.0.1:PORT`, as image names spell it. */
  host: string;
  dir: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  basic?: { user: string; password: string };
  token?: { user: string; password: string };
  /** Allow manifest and blob deletes (`storage.delete.enabled`). */
  deletes?: boolean;
}

export async function startRegistry(o: RegistryOptions = {}): Promise<Registry> {
  const dir = mkdtempSync('/tmp/berth-registry-');
  const port = await freePort();
  const stops: (() => Promise<void>)[] = [];
  let auth = '';
  if (o.basic) {
    const r = spawnSync('htpasswd', ['-Bbc', join(dir, 'htpasswd'), o.basic.user, o.basic.password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`htpasswd: ${r.stderr}`);
    auth = `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  if (o.token) {
    const certs = makeCerts(join(dir, 'certs'));
    const ts = await startTokenServer(certs.serverKey, certs.serverCert, o.token);
    stops.push(ts.stop);
    auth = `auth:\n  token:\n    realm: ${ts.url}/token\n    service: berth-test-registry\n    issuer: berth-test-issuer\n    rootcertbundle: ${certs.serverCert}\n`;
  }
  const config = `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n` + (o.deletes ? '  delete:\n    enabled: true\n' : '') +
    `http:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(8).toString('hex')}\n${auth}`;
  writeFileSync(join(dir, 'config.yml'), config);
  const proc = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  proc.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const stop = async () => {
    await stopProcess(proc);
    for (const s of stops) await s();
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await answers(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not start:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host: `127.0.0.1:${port}`, dir, stop };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/' }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(t);
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** Docker token auth: GET /token with Basic credentials → a JWT granting the scopes asked for. */
async function startTokenServer(keyFile: string, certFile: string, user: { user: string; password: string }): Promise<{ url: string; stop: () => Promise<void> }> {
  const key = createPrivateKey(readFileSync(keyFile));
  const ec = key.asymmetricKeyType === 'ec';
  const der = new X509Certificate(readFileSync(certFile)).raw;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const given = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    if (given !== `${user.user}:${user.password}`) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
      return;
    }
    const access = url.searchParams.getAll('scope').map((s) => {
      const [type, name, actions] = [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1, s.lastIndexOf(':')), s.slice(s.lastIndexOf(':') + 1)];
      return { type, name, actions: actions.split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: ec ? 'ES256' : 'RS256', x5c: [der.toString('base64')] };
    const claims = { iss: 'berth-test-issuer', sub: user.user, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), ec ? { key, dsaEncoding: 'ieee-p1363' } : key);
    const token = `${input}.${b64url(sig)}`;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop: () => closeServer(server) };
}

function closeServer(s: Server): Promise<void> {
  s.closeAllConnections();
  return new Promise((r) => s.close(() => r()));
}

export type Fault = 'corrupt' | 'cut' | 'cut-no-range';

/**
 * A proxy in front of a registry that damages blob downloads: `corrupt`
 * flips a byte in every blob body; `cut` sends half of a blob and drops the
 * connection, once per blob (the retry gets it whole); `cut-no-range` cuts
 * the same way and then answers the retry's Range request with the whole
 * blob (200), as a registry without range support does.
 */
export async function startFaultProxy(upstream: string, fault: Fault): Promise<{ host: string; requests: string[]; stop: () => Promise<void> }> {
  const [uhost, uport] = upstream.split(':');
  const cutAlready = new Set<string>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}${req.headers.range ? ` Range:${req.headers.range}` : ''}`);
    if (fault === 'cut-no-range') delete req.headers.range;
    const up = request({ host: uhost, port: Number(uport), path: req.url, method: req.method, headers: req.headers }, (ures: IncomingMessage) => {
      const blob = req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '') && (ures.statusCode === 200 || ures.statusCode === 206);
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      if (!blob) {
        ures.pipe(res);
        return;
      }
      const total = Number(ures.headers['content-length'] ?? 0);
      let seen = 0;
      ures.on('data', (chunk: Buffer) => {
        if (fault === 'corrupt' && seen <= total / 2 && seen + chunk.length > total / 2) {
          chunk = Buffer.from(chunk);
          const i = Math.floor(total / 2) - seen;
          chunk[i] = chunk[i]! ^ 0xff;
        }
        if ((fault === 'cut' || fault === 'cut-no-range') && !cutAlready.has(req.url!) && seen + chunk.length > total / 2) {
          cutAlready.add(req.url!);
          res.write(chunk.subarray(0, Math.max(1, Math.floor(total / 2) - seen)));
          ures.destroy();
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        }
        seen += chunk.length;
        res.write(chunk);
      });
      ures.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests, stop: () => closeServer(server) };
}
