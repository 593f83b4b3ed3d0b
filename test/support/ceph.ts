/**
 * A throwaway single-node Ceph (1 mon, 1 memstore OSD, no mgr, auth none)
 * with radosgw, on 127.0.0.1, as a real S3 server for the registry's S3
 * driver tests (recipe and quirks: ../shared/reference/ceph-s3.md). Up in
 * about 1.5 s; `down` kills the three daemons by pid and removes the dir.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './net.js';
import { waitFor } from './wait.js';

export interface Ceph {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Kills the S3 gateway alone (an outage); `down` still ends the rest. */
  stopGateway(): Promise<void>;
  down(): Promise<void>;
}

export async function cephUp(): Promise<Ceph> {
  const d = mkdtempSync('/tmp/berth-ceph-');
  const rgwPort = await freePort();
  const monPort = await freePort();
  const fsid = randomUUID();
  for (const sub of ['mon', 'osd', 'run', 'log']) mkdirSync(join(d, sub));
  writeFileSync(join(d, 'keyring'), '');
  writeFileSync(join(d, 'ceph.conf'), `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
run dir = ${d}/run
pid file = ${d}/run/$name.pid
admin socket = ${d}/run/$name.asok
log file = ${d}/log/$name.log
mon data = ${d}/mon/$name
osd data = ${d}/osd/$id
keyring = ${d}/keyring
mon data avail warn = 2
mon data avail crit = 1
mon warn on insecure global id reclaim allowed = false
mon warn on pool no redundancy = false
mon allow pool delete = true
paxos propose interval = 0.05
paxos min wait = 0.01
osd objectstore = memstore
memstore device bytes = 1073741824
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${d}/rgw
rgw thread pool size = 64
rgw init timeout = 60
rgw gc obj min wait = 60
rgw gc processor period = 30
`);
  const c = ['-c', join(d, 'ceph.conf')];
  const ceph: Ceph = {
    endpoint: `http://127.0.0.1:${rgwPort}`, accessKeyId: 'testkey', secretAccessKey: 'testsecret',
    stopGateway: async () => {
      const pids = readdirSync(join(d, 'run')).filter((n) => n.includes('rgw') && n.endsWith('.pid')).map((n) => Number(readFileSync(join(d, 'run', n), 'utf8').trim()));
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await waitFor(async () => pids.every((pid) => gone(pid)), 10_000, 'the rgw to exit');
    },
    down: async () => {
      const pids = readdirSync(join(d, 'run')).filter((n) => n.endsWith('.pid')).map((n) => Number(readFileSync(join(d, 'run', n), 'utf8').trim()));
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL'); // throwaway data: SIGTERM would make memstore dump its RAM to disk
        } catch {
          // already gone
        }
      }
      await waitFor(async () => pids.every((pid) => gone(pid)), 10_000, 'ceph daemons to exit');
      rmSync(d, { recursive: true, force: true });
    },
  };
  try {
    execFileSync('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, join(d, 'monmap')], { stdio: 'ignore' });
    execFileSync('ceph-mon', [...c, '-i', 'a', '--mkfs', '--monmap', join(d, 'monmap')], { stdio: 'ignore' });
    execFileSync('ceph-mon', [...c, '-i', 'a'], { stdio: 'ignore' });
    const osdUuid = randomUUID();
    const id = execFileSync('ceph', [...c, 'osd', 'new', osdUuid], { encoding: 'utf8', timeout: 30_000 }).trim();
    mkdirSync(join(d, 'osd', id), { recursive: true });
    execFileSync('ceph-osd', [...c, '-i', id, '--mkfs', '--osd-uuid', osdUuid], { stdio: 'ignore' });
    execFileSync('ceph-osd', [...c, '-i', id], { stdio: 'ignore' });
    execFileSync('radosgw', [...c, '-n', 'client.rgw.a'], { stdio: 'ignore', timeout: 60_000 });
    await waitFor(async () => (await fetch(ceph.endpoint).then((r) => r.status > 0, () => false)), 30_000, 'radosgw');
    execFileSync('radosgw-admin', [...c, 'user', 'create', '--uid', 'test', '--display-name', 'test', '--access-key', ceph.accessKeyId, '--secret', ceph.secretAccessKey], { stdio: 'ignore' });
  } catch (err) {
    await ceph.down();
    throw err;
  }
  return ceph;
}

/** Gone, or a zombie nobody reaped yet (the machine's PID 1 reaps late). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^Z/.test(execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim());
  } catch {
    return true;
  }
}
