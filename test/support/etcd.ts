/**
 * Throwaway etcd clusters for the cluster-store tests: a CA and certificates
 * made with the openssl CLI, members started by EtcdMember on 127.0.0.1 with
 * free ports and TLS everywhere, and a teardown that kills every member by
 * pid and removes every data dir.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdMember, initialClusterOf, isEtcdFor, type TlsFiles } from '../../src/daemon/cluster/etcd-member.js';
import { EtcdStore } from '../../src/daemon/cluster/etcd-store.js';
import { freePort } from './net.js';

export interface EtcdCerts {
  dir: string;
  /** Server + peer certificate of the members (serverAuth and clientAuth, SAN 127.0.0.1). */
  member: TlsFiles;
  /** A client certificate for the stores (clientAuth). */
  client: TlsFiles;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

/** A CA, a member certificate and a client certificate, valid for a day. */
export function makeEtcdCerts(dir: string): EtcdCerts {
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=berth test etcd CA'], dir);
  const issue = (name: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['req', ...ec, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`], dir);
    return { caFile: join(dir, 'ca.pem'), certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}-key.pem`) };
  };
  return {
    dir,
    member: issue('member', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature\n'),
    client: issue('client', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n'),
  };
}

export interface TestMember {
  name: string;
  dataRoot: string;
  clientUrl: string;
  peerUrl: string;
  member: EtcdMember;
}

export class TestEtcdCluster {
  readonly root: string;
  readonly certs: EtcdCerts;
  readonly members: TestMember[] = [];
  /** Every pid any member ever had, to kill leftovers by pid. */
  private readonly pids = new Set<number>();

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'berth-etcd-'));
    this.certs = makeEtcdCerts(join(this.root, 'certs'));
  }

  private async describe(name: string): Promise<Omit<TestMember, 'member'>> {
    const [c, p] = [await freePort(), await freePort()];
    return { name, dataRoot: join(this.root, name), clientUrl: `https://127.0.0.1:${c}`, peerUrl: `https://127.0.0.1:${p}` };
  }

  memberFor(d: Omit<TestMember, 'member'>, initialCluster: string, clusterState: 'new' | 'existing'): EtcdMember {
    return new EtcdMember({
      name: d.name,
      dataRoot: d.dataRoot,
      clientUrl: d.clientUrl,
      peerUrl: d.peerUrl,
      clientTls: this.certs.member,
      peerTls: this.certs.member,
      initialCluster,
      clusterState,
      restartBackoff: { initialMs: 200, maxMs: 2000 },
      pollMs: 200,
    });
  }

  private track(m: EtcdMember): void {
    if (m.pid) this.pids.add(m.pid);
  }

  /** Starts the first member (`new`) and waits until it serves. */
  async startFirst(name = 'm1'): Promise<TestMember> {
    const d = await this.describe(name);
    return this.launch(d, this.memberFor(d, `${name}=${d.peerUrl}`, 'new'));
  }

  /** Starts a member, tracks it for teardown, and waits until it serves. */
  private async launch(d: Awaited<ReturnType<typeof this.describe>>, member: EtcdMember): Promise<TestMember> {
    await member.start();
    this.track(member);
    await member.waitHealthy(20_000);
    const t = { ...d, member };
    this.members.push(t);
    return t;
  }

  /** Adds a member through the API (member add), starts it with `existing`, waits until it serves. */
  async join(name: string): Promise<TestMember> {
    const d = await this.describe(name);
    const store = this.store();
    try {
      const { members } = await store.addMember([d.peerUrl]);
      return await this.launch(d, this.memberFor(d, initialClusterOf(members, name, d.peerUrl), 'existing'));
    } finally {
      await store.close();
    }
  }

  /** A store client with the client certificate, on every member's URL. */
  store(requestTimeoutMs = 5000, members = this.members): EtcdStore {
    return new EtcdStore({ endpoints: members.map((m) => m.clientUrl), tls: this.certs.client, requestTimeoutMs });
  }

  /** Records a pid to kill at teardown (members restarted by supervision get new ones). */
  remember(pid: number | undefined): void {
    if (pid) this.pids.add(pid);
  }

  /** Kills every member ever started (by pid, after checking it is one of ours) and removes all data. */
  async teardown(): Promise<void> {
    for (const m of this.members) {
      this.remember(m.member.pid);
      await m.member.stop(2000).catch(() => {});
    }
    for (const pid of this.pids) {
      for (const m of this.members) if (isEtcdFor(pid, m.member.paths.dataDir)) process.kill(pid, 'SIGKILL');
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
