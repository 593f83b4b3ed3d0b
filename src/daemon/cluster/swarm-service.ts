/**
 * Swarm mode on this node: `swarm init`, `leave`, the swarm and node objects
 * a manager reads and writes, and the `Swarm` block of `docker info`.
 *
 *   <data-root>/swarm/
 *   ├── state.json          this node's membership: node id, cluster id, role, advertise IP, etcd URLs
 *   │                       (written last by init, removed first by leave: no file = not in a swarm)
 *   ├── certificates/       swarm-root-ca.crt, swarm-root-ca.key, swarm-node.crt, swarm-node.key (pki-files.ts)
 *   └── etcd/               the local etcd member (etcd-member.ts)
 *
 * A daemon never in a swarm has no state.json: `start()` reads one missing
 * file and returns, no etcd, no timers. A manager's berthd starting again
 * adopts the etcd member that kept running (or starts it), reconnects the
 * store and renews its node's heartbeat lease under a new lease id.
 *
 * etcd addresses: the member listens for clients on https://<advertise
 * IP>:2379 and for peers on https://<advertise IP>:2380 (the ports are
 * options), TLS both ways with the node certificate, which carries the
 * advertise IP as a SAN. They are recorded in state.json at init, so a
 * restart uses the same ones.
 */
import { networkInterfaces } from 'node:os';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SwarmInfoView, SwarmInitRequest, SwarmSpec, SwarmView } from '../../api/types/index.js';
import { Conflict, InvalidParameter, Unavailable } from '../../errdefs/index.js';
import { writeJsonAtomic } from '../../lib/atomic-file.js';
import { hostOf, resolveAdvertiseIp } from './advertise-addr.js';
import type { Server } from 'node:https';
import { createRootCA, publicRootCA, rootCAFromPem } from './ca.js';
import { requestJoin, serveSwarmPort, type JoinAnswer, type JoinRequest } from './join-protocol.js';
import { EtcdMember, type TlsFiles } from './etcd-member.js';
import { newSwarmId } from './ids.js';
import { generateJoinTokens, roleForJoinToken, rotateJoinTokens } from './join-token.js';
import { issueNodeCertificate } from './node-cert.js';
import { loadNodeCredentials, loadRootCA, NODE_CERT_FILE, NODE_KEY_FILE, ROOT_CA_CERT_FILE, saveNodeCredentials, saveRootCA } from './pki-files.js';
import type { ClusterStore } from './store.js';
import {
  checkSupportedSpec, CLUSTER_KEY, clusterInfoView, defaultSwarmSpec, heartbeatKey, mergeSwarmSpec, nodeKey, SWARM_PORT, swarmView,
  type ClusterRecord, type NodeRecord,
} from './swarm-objects.js';
import { readCluster, readNodes, SwarmNodes } from './swarm-nodes.js';
import { NodeHeartbeat } from './node-heartbeat.js';

export interface SwarmMembership {
  store: ClusterStore;
  nodeId: string;
  advertiseIp: string;
  role: 'manager' | 'worker';
  hostname: string;
}

/** What this node remembers of its swarm, in <data-root>/swarm/state.json. */
export interface LocalSwarmState {
  nodeId: string;
  clusterId: string;
  role: 'manager' | 'worker';
  advertiseIp: string;
  listenAddr: string;
  /** The local member's client URL (managers); '' on a worker. */
  clientUrl: string;
  peerUrl: string;
  /** The etcd client URLs this node's store uses (a worker's: its managers'). */
  etcdEndpoints?: string[];
  /** The managers a worker joined through (`Info.Swarm.RemoteManagers`). */
  managers?: { nodeId: string; addr: string }[];
}

export interface SwarmServiceDeps {
  dataRoot: string;
  hostname: string;
  engineVersion: string;
  ncpu: number;
  memTotal: number;
  /** Interfaces never chosen as the advertise address (the daemon's own bridge). */
  skipInterfaces?: string[];
  etcdClientPort?: number;
  etcdPeerPort?: number;
  etcdBinary?: string;
  log: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
  /** The store over the local member; EtcdStore unless a test says otherwise. */
  openStore?: (endpoints: string[], tls: TlsFiles) => ClusterStore;
}

export interface SwarmUpdateFlags {
  version: number;
  rotateWorkerToken: boolean;
  rotateManagerToken: boolean;
}

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const SWARM_EXISTS = 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';
const NO_SWARM = 'This node is not part of a swarm';
const LAST_MANAGER = 'You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message. ';


export class SwarmService {
  private state: LocalSwarmState | undefined;
  private store: ClusterStore | undefined;
  private member: EtcdMember | undefined;
  private heartbeat: NodeHeartbeat | undefined;
  private swarmPort: Server | undefined;
  private lastError = '';
  /** One init/leave/start at a time. */
  private busy: Promise<unknown> = Promise.resolve();
  private readonly membershipListeners: ((m: SwarmMembership | undefined) => void)[] = [];

  constructor(private readonly d: SwarmServiceDeps) {}

  get dir(): string {
    return join(this.d.dataRoot, 'swarm');
  }

  private get certDir(): string {
    return join(this.dir, 'certificates');
  }

  private get tlsFiles(): TlsFiles {
    return { caFile: join(this.certDir, ROOT_CA_CERT_FILE), certFile: join(this.certDir, NODE_CERT_FILE), keyFile: join(this.certDir, NODE_KEY_FILE) };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.busy.then(fn, fn);
    this.busy = next.catch(() => {});
    // listeners hear of every init, join, leave and start, once it is done
    void next.then(() => this.announce(), () => this.announce());
    return next;
  }

  /** This node in its swarm, for the cluster's other users (overlay networks); undefined outside a swarm. */
  membership(): SwarmMembership | undefined {
    const { state, store } = this;
    if (!state || !store) return undefined;
    return { store, nodeId: state.nodeId, advertiseIp: state.advertiseIp, role: state.role, hostname: this.d.hostname };
  }

  /** `fn` hears the membership after each change (and may be told the same one again). */
  onMembership(fn: (m: SwarmMembership | undefined) => void): void {
    this.membershipListeners.push(fn);
  }

  private announce(): void {
    const m = this.membership();
    for (const fn of this.membershipListeners) fn(m);
  }

  /** At daemon start: nothing unless this node was in a swarm; then adopt etcd, reconnect, beat. */
  start(): Promise<void> {
    return this.serial(async () => {
      let raw: string;
      try {
        raw = await readFile(join(this.dir, 'state.json'), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      const state = JSON.parse(raw) as LocalSwarmState;
      this.state = state;
      try {
        if (state.role === 'manager') {
          const { pid, adopted } = await this.memberFor(state, 'new').start();
          this.d.log.info(adopted ? 'swarm: adopted the running etcd member' : 'swarm: started the etcd member', { pid, node: state.nodeId });
        }
        this.store = await this.openStore(state);
        this.heartbeat = new NodeHeartbeat(this.store, state.nodeId);
        this.heartbeat.startInBackground();
        // last: a busy swarm port stops joins, not the store, the heartbeat or `docker node ls`
        if (state.role === 'manager') await this.openSwarmPort(state);
      } catch (err) {
        this.lastError = (err as Error).message;
        this.d.log.warn('swarm: could not resume swarm mode', { error: this.lastError });
      }
    });
  }

  /** berthd stopping: etcd keeps running, the lease is left to expire (the node shows down after its TTL). */
  async shutdown(): Promise<void> {
    await this.closeSwarmPort();
    this.heartbeat?.stop();
    this.member?.release();
    await this.store?.close().catch(() => {});
  }

  private memberFor(state: LocalSwarmState, clusterState: 'new' | 'existing'): EtcdMember {
    const tls = this.tlsFiles;
    this.member = new EtcdMember({
      name: state.nodeId, dataRoot: this.d.dataRoot, clientUrl: state.clientUrl, peerUrl: state.peerUrl,
      clientTls: tls, peerTls: tls, initialCluster: `${state.nodeId}=${state.peerUrl}`, clusterState,
      ...(this.d.etcdBinary ? { etcdBinary: this.d.etcdBinary } : {}),
      log: (msg) => this.d.log.warn(msg),
    });
    return this.member;
  }

  /** The etcd client (and gRPC) load here, on first use: a daemon outside a swarm never reads them. */
  private async openStore(state: LocalSwarmState): Promise<ClusterStore> {
    const endpoints = state.etcdEndpoints ?? [state.clientUrl];
    if (this.d.openStore) return this.d.openStore(endpoints, this.tlsFiles);
    const { EtcdStore } = await import('./etcd-store.js');
    return new EtcdStore({ endpoints, tls: this.tlsFiles });
  }

  /** A manager serves the join protocol (join-protocol.ts) on its listen address, port 2377 by default. */
  private async openSwarmPort(state: LocalSwarmState): Promise<void> {
    const creds = await loadNodeCredentials(this.certDir);
    const ca = await loadRootCA(this.certDir);
    if (!creds || !ca) throw new Unavailable('swarm.not_manager', 'this manager has no certificates');
    const listen = state.listenAddr || `0.0.0.0:${SWARM_PORT}`;
    const port = Number(/:(\d+)$/.exec(listen)?.[1] ?? SWARM_PORT);
    const host = hostOf(listen);
    this.swarmPort = await serveSwarmPort(host.includes('.') || host.includes(':') ? host : '0.0.0.0', port, creds, ca.certPem, {
      rootCaPem: async () => ca.certPem,
      admit: (req) => this.admit(req, ca),
    });
  }

  private async closeSwarmPort(): Promise<void> {
    const server = this.swarmPort;
    this.swarmPort = undefined;
    if (server) await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
  }

  /** The manager's side of a join: the token decides the role; a worker gets a certificate and a node record. */
  private async admit(req: JoinRequest, ca: { certPem: string; keyPem?: string; digest: string }): Promise<JoinAnswer> {
    const { state, store } = this.manager();
    const { record: cluster } = await readCluster(store);
    const role = roleForJoinToken(req.token, cluster.joinTokens);
    if (role === 'manager') throw new InvalidParameter('swarm.unsupported_option', 'joining as a manager is not supported by berth yet; join with the worker token');
    const nodeId = newSwarmId();
    const creds = await issueNodeCertificate(ca, { nodeId, role: 'worker', clusterId: state.clusterId, ...(req.addr ? { ipAddresses: [req.addr] } : {}) });
    const now = new Date().toISOString();
    const node: NodeRecord = {
      id: nodeId, createdAt: now, updatedAt: now, spec: { Labels: {}, Role: 'worker', Availability: 'active' },
      description: { ...req.description, TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' } }, addr: req.addr,
    };
    await store.txn({ compare: [{ key: nodeKey(nodeId), modRevision: 0 }], success: [{ put: nodeKey(nodeId), value: JSON.stringify(node) }] });
    const { views } = await readNodes(store);
    this.d.log.info('swarm: a worker joined', { node: nodeId, addr: req.addr });
    return {
      nodeId, addr: req.addr, clusterId: state.clusterId, role: 'worker', certPem: creds.certPem, keyPem: creds.keyPem, caPem: publicRootCA(ca).certPem,
      managers: views.filter((v) => v.ManagerStatus).map((v) => ({ nodeId: v.ID, addr: v.ManagerStatus!.Addr })),
      etcdEndpoints: [state.clientUrl],
    };
  }

  /** `docker swarm join` as a worker: pin the CA, present the token, become an etcd client with the certificate. */
  join(req: { RemoteAddrs?: string[]; JoinToken?: string; AdvertiseAddr?: string; ListenAddr?: string }): Promise<void> {
    return this.serial(async () => {
      if (this.state) throw new Unavailable('swarm.exists', SWARM_EXISTS);
      const remote = req.RemoteAddrs?.[0];
      if (!remote) throw new InvalidParameter('swarm.join_request', 'at least 1 RemoteAddr is required to join');
      const advertise = req.AdvertiseAddr ? resolveAdvertiseIp({ advertiseAddr: req.AdvertiseAddr }, networkInterfaces()) : undefined;
      const answer = await requestJoin(remote.includes(':') ? remote : `${remote}:${SWARM_PORT}`, req.JoinToken ?? '', advertise, this.description());
      await rm(this.dir, { recursive: true, force: true });
      try {
        await saveRootCA(this.certDir, rootCAFromPem(answer.caPem));
        await saveNodeCredentials(this.certDir, { certPem: answer.certPem, keyPem: answer.keyPem });
        const state: LocalSwarmState = {
          nodeId: answer.nodeId, clusterId: answer.clusterId, role: 'worker', advertiseIp: answer.addr, listenAddr: req.ListenAddr || `0.0.0.0:${SWARM_PORT}`,
          clientUrl: '', peerUrl: '', etcdEndpoints: answer.etcdEndpoints, managers: answer.managers,
        };
        this.store = await this.openStore(state);
        this.heartbeat = new NodeHeartbeat(this.store, state.nodeId);
        await this.heartbeat.startNow();
        this.state = state;
        await writeJsonAtomic(join(this.dir, 'state.json'), state);
        this.d.log.info('swarm: joined as a worker', { node: state.nodeId, managers: answer.managers.map((m) => m.addr) });
      } catch (err) {
        this.state = undefined;
        await this.teardown();
        throw err;
      }
    });
  }

  // --- swarm ----------------------------------------------------------------

  init(req: SwarmInitRequest): Promise<string> {
    return this.serial(async () => {
      if (this.state) throw new Unavailable('swarm.exists', SWARM_EXISTS);
      if (req.ForceNewCluster) throw new InvalidParameter('swarm.unsupported_option', '--force-new-cluster is not supported by berth');
      checkSupportedSpec(req.Spec);
      const spec = mergeSwarmSpec(defaultSwarmSpec(), req.Spec);
      const advertiseIp = resolveAdvertiseIp({
        ...(req.AdvertiseAddr ? { advertiseAddr: req.AdvertiseAddr } : {}), listenAddr: req.ListenAddr || '0.0.0.0:2377',
        ...(this.d.skipInterfaces ? { skipInterfaces: this.d.skipInterfaces } : {}),
      }, networkInterfaces());
      const host = advertiseIp.includes(':') ? `[${advertiseIp}]` : advertiseIp;
      const state: LocalSwarmState = {
        nodeId: newSwarmId(), clusterId: newSwarmId(), role: 'manager', advertiseIp, listenAddr: req.ListenAddr || '0.0.0.0:2377',
        clientUrl: `https://${host}:${this.d.etcdClientPort ?? 2379}`, peerUrl: `https://${host}:${this.d.etcdPeerPort ?? 2380}`,
      };
      // an init interrupted by a crash may have left a member running on this data root
      await this.memberFor(state, 'new').stop().catch(() => {});
      await rm(this.dir, { recursive: true, force: true });
      try {
        const ca = await createRootCA();
        const creds = await issueNodeCertificate(ca, { nodeId: state.nodeId, role: 'manager', clusterId: state.clusterId, ipAddresses: [...new Set([advertiseIp, '127.0.0.1'])] });
        await saveRootCA(this.certDir, ca, { withKey: true });
        await saveNodeCredentials(this.certDir, creds);
        const member = this.memberFor(state, 'new');
        await member.start();
        await member.waitHealthy();
        const store = await this.openStore(state);
        this.store = store;
        const now = new Date().toISOString();
        const cluster: ClusterRecord = {
          id: state.clusterId, createdAt: now, updatedAt: now, spec, joinTokens: generateJoinTokens(ca.digest), rootCaCertPem: ca.certPem,
          defaultAddrPool: req.DefaultAddrPool?.length ? req.DefaultAddrPool : ['10.0.0.0/8'], subnetSize: req.SubnetSize || 24,
          dataPathPort: req.DataPathPort || 4789, leaderId: state.nodeId,
        };
        const node: NodeRecord = {
          id: state.nodeId, createdAt: now, updatedAt: now, spec: { Labels: {}, Role: 'manager', Availability: 'active' },
          description: this.description(), addr: advertiseIp, managerAddr: `${host}:${SWARM_PORT}`,
        };
        const r = await store.txn({
          compare: [{ key: CLUSTER_KEY, modRevision: 0 }],
          success: [{ put: CLUSTER_KEY, value: JSON.stringify(cluster) }, { put: nodeKey(node.id), value: JSON.stringify(node) }],
        });
        if (!r.succeeded) throw new Conflict('swarm.exists', 'the new etcd member already holds a swarm');
        this.heartbeat = new NodeHeartbeat(this.store, state.nodeId);
        await this.heartbeat.startNow();
        this.state = state;
        await this.openSwarmPort(state);
        await writeJsonAtomic(join(this.dir, 'state.json'), state);
        this.d.log.info('swarm initialized', { node: state.nodeId, cluster: state.clusterId, advertise: advertiseIp, etcd: state.clientUrl });
        return state.nodeId;
      } catch (err) {
        this.state = undefined;
        await this.teardown();
        throw err;
      }
    });
  }

  private description(): NodeRecord['description'] {
    return {
      Hostname: this.d.hostname,
      Platform: { Architecture: process.arch === 'x64' ? 'x86_64' : process.arch, OS: 'linux' },
      Resources: { NanoCPUs: this.d.ncpu * 1e9, MemoryBytes: this.d.memTotal },
      Engine: {
        EngineVersion: this.d.engineVersion,
        Plugins: [
          { Type: 'Log', Name: 'json-file' }, { Type: 'Network', Name: 'bridge' }, { Type: 'Network', Name: 'host' },
          { Type: 'Network', Name: 'null' }, { Type: 'Volume', Name: 'local' },
        ],
      },
      TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' },
    };
  }

  /** Stops the heartbeat, the store and the member, and removes every swarm file. */
  private async teardown(): Promise<void> {
    await this.closeSwarmPort();
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    await this.store?.close().catch(() => {});
    this.store = undefined;
    await this.member?.destroy().catch((err: Error) => this.d.log.warn('swarm: could not stop the etcd member', { error: err.message }));
    this.member = undefined;
    await rm(this.dir, { recursive: true, force: true });
  }

  leave(force: boolean): Promise<void> {
    return this.serial(async () => {
      if (!this.state) throw new Unavailable('swarm.not_in_swarm', NO_SWARM);
      // one manager per swarm today: a manager leaving is always the last one
      if (this.state.role === 'manager' && !force) throw new Unavailable('swarm.leave_last_manager', LAST_MANAGER);
      // a worker's heartbeat goes at once: managers show it down (it stays listed until `node rm`, as in Docker)
      if (this.state.role === 'worker') await this.store?.delete(heartbeatKey(this.state.nodeId)).catch(() => false);
      // a manager whose resume failed has no member object: make one to stop (by pid) and delete what runs
      if (this.state.role === 'manager' && !this.member) this.memberFor(this.state, 'new');
      // the state file goes first: a crash from here on restarts as a daemon outside any swarm
      await rm(join(this.dir, 'state.json'), { force: true });
      this.state = undefined;
      await this.teardown();
      this.lastError = '';
    });
  }

  /** The node and cluster routes' half: reads and writes of node objects, on a manager. */
  readonly nodes = new SwarmNodes(() => this.manager().store);

  private manager(): { state: LocalSwarmState; store: ClusterStore } {
    if (!this.state || !this.store) throw new Unavailable('swarm.not_manager', NOT_MANAGER);
    if (this.state.role !== 'manager') {
      throw new Unavailable('swarm.not_manager', "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.");
    }
    return { state: this.state, store: this.store };
  }

  async inspect(): Promise<SwarmView> {
    const { store } = this.manager();
    const { record, kv } = await readCluster(store);
    return swarmView(record, kv.modRevision);
  }

  async update(spec: SwarmSpec, flags: SwarmUpdateFlags): Promise<void> {
    const { store } = this.manager();
    checkSupportedSpec(spec);
    const { record, kv } = await readCluster(store);
    if (flags.version !== kv.modRevision) throw new Conflict('swarm.update_out_of_sequence', 'update out of sequence');
    const digest = rootCAFromPem(record.rootCaCertPem).digest;
    const next: ClusterRecord = {
      ...record,
      updatedAt: new Date().toISOString(),
      spec: mergeSwarmSpec(record.spec, spec),
      joinTokens: rotateJoinTokens(record.joinTokens, digest, { worker: flags.rotateWorkerToken, manager: flags.rotateManagerToken }),
    };
    const r = await store.txn({ compare: [{ key: CLUSTER_KEY, modRevision: kv.modRevision }], success: [{ put: CLUSTER_KEY, value: JSON.stringify(next) }] });
    if (!r.succeeded) throw new Conflict('swarm.update_out_of_sequence', 'update out of sequence');
  }

  /** Autolock is refused at init and update, so a manager has no unlock key: Docker's answer is an empty one. */
  async unlockKey(): Promise<{ UnlockKey: string }> {
    this.manager();
    return { UnlockKey: '' };
  }

  // --- info -----------------------------------------------------------------

  /** The `Swarm` block of `GET /info` and the `Swarm` header of `/_ping`. */
  async info(): Promise<SwarmInfoView> {
    const state = this.state;
    if (!state) return { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null };
    const host = state.advertiseIp.includes(':') ? `[${state.advertiseIp}]` : state.advertiseIp;
    const out: SwarmInfoView = {
      NodeID: state.nodeId, NodeAddr: state.advertiseIp, LocalNodeState: 'active', ControlAvailable: state.role === 'manager', Error: this.lastError || this.heartbeat?.lastError || '',
      RemoteManagers: state.role === 'manager' ? [{ NodeID: state.nodeId, Addr: `${host}:${SWARM_PORT}` }] : (state.managers ?? []).map((m) => ({ NodeID: m.nodeId, Addr: m.addr })),
    };
    if (state.role !== 'manager' || !this.store) return out;
    try {
      const { record, kv } = await readCluster(this.store);
      const { views } = await readNodes(this.store);
      out.Nodes = views.length;
      out.Managers = views.filter((v) => v.Spec.Role === 'manager').length;
      out.RemoteManagers = views.filter((v) => v.ManagerStatus).map((v) => ({ NodeID: v.ID, Addr: v.ManagerStatus!.Addr }));
      out.Cluster = clusterInfoView(record, kv.modRevision);
    } catch (err) {
      out.Error = (err as Error).message;
    }
    return out;
  }

  /** `active/manager`, `active/worker` or `inactive`, for the `Swarm` header of `/_ping`. */
  pingState(): string {
    return this.state ? `active/${this.state.role}` : 'inactive';
  }

}
