/** Test certificates made by `berth certs create` (a CA, server and client certificates per directory). */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH } from './daemon.js';

export interface CertSet {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  cert: string;
  key: string;
  pem(name: 'ca' | 'cert' | 'key'): Buffer;
}

export function makeCerts(dir: string, hosts = '127.0.0.1,localhost'): CertSet {
  const r = spawnSync(BERTH, ['certs', 'create', '--dir', dir, '--hosts', hosts], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`berth certs create failed: ${r.stderr}`);
  const set = {
    dir,
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server-cert.pem'),
    serverKey: join(dir, 'server-key.pem'),
    cert: join(dir, 'cert.pem'),
    key: join(dir, 'key.pem'),
  };
  return { ...set, pem: (name) => readFileSync(set[name]) };
}

/** berthd flags for mutual TLS with these certificates. */
export function tlsDaemonArgs(c: CertSet): string[] {
  return ['--tlsverify', '--tlscacert', c.ca, '--tlscert', c.serverCert, '--tlskey', c.serverKey];
}
