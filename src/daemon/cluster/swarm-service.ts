/**
 * Swarm mode on this node: `swarm init`, `leave`, the swarm and node objects
 * a manager reads and writes, and the `Swarm` block of `docker info`.
 *
 *   <data-root>/swarm/
 *   ├── state.json          this node's membership (swarm-state.ts)
 *   ├── certificates/       swarm-root-ca.crt, swarm-root-ca.key, swarm-node.crt, swarm-node.key (pki-files.ts),
 *   │                       swarm-data.key (managers: the key secrets are sealed with, data-key.ts)
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
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:https';
import { ingressNetworkOps, releaseNodeNetworking } from './network-records.js';
import { followContacts, type Contacts } from './worker-contacts.js';
import type { ConfigView, SecretView, SwarmInfoView, SwarmInitRequest, SwarmSpec, SwarmView } from '../../api/types/index.js';
import { Conflict, InvalidParameter, Unavailable } from '../../errdefs/index.js';
import { hostOf, resolveAdvertiseIp } from './advertise-addr.js';
import { createRootCA, rootCAFromPem } from './ca.js';
import { loadDataKey, newDataKey, requireDataKey, saveDataKey } from './data-key.js';
import { requestJoin, serveSwarmPort } from './join-protocol.js';
import { taskFileSource, type TaskFileRefs, type TaskFileSource } from './task-file-source.js';
import { EtcdMember, leaveCluster, type TlsFiles } from './etcd-member.js';
import { newSwarmId } from './ids.js';
import { generateJoinTokens, rotateJoinTokens } from './join-token.js';
import { LeaderElection, Leadership } from './leader-election.js';
import { joinEtcdCluster, leaveManagerRefusal, managerStats, watchOwnRole, withNoLeaderErrors } from './manager-membership.js';
import { issueNodeCertificate } from './node-cert.js';
import { loadNodeCredentials, loadRootCA, NODE_CERT_FILE, NODE_KEY_FILE, ROOT_CA_CERT_FILE, saveNodeCredentials, saveRootCA } from './pki-files.js';
import type { ClusterStore } from './store.js';
import { SwarmAuthority } from './swarm-authority.js';
import { plainBase64, sealedWith, SwarmFileObjects } from './secrets.js';
import {
  checkSupportedSpec, CLUSTER_KEY, defaultSwarmSpec, heartbeatKey, mergeSwarmSpec, nodeDescription, nodeKey, SWARM_PORT, swarmView,
  type ClusterRecord, type NodeRecord,
} from './swarm-objects.js';
import { readCluster, readNodes, SwarmNodes } from './swarm-nodes.js';
import { NodeHeartbeat } from './node-heartbeat.js';
import { demoteSelf, promoteSelf, type RoleChangeHost } from './swarm-roles.js';
import { swarmInfo } from './swarm-info.js';
import { SwarmServices } from './swarm-services.js';
import { SwarmWorkloads } from './swarm-workloads.js';
import type { PublishClusterEvent } from './cluster-events.js';
import { serviceLogs, type LogSelector } from './service-logs.js';
import { requestTaskLogs } from './task-log-protocol.js';
import { nodeTaskLogs, type TaskLogQuery, type TaskLogReader } from './task-log-source.js';
import type { LogEntry } from '../logs/entry.js';
import type { TaskContainers } from './task-agent.js';
import { readSwarmState, writeSwarmState, type LocalSwarmState } from './swarm-state.js';

export type { LocalSwarmState } from './swarm-state.js';

export interface SwarmMembership {
  store: ClusterStore;
  nodeId: string;
  advertiseIp: string;
  role: 'manager' | 'worker';
  hostname: string;
}

export interface SwarmServiceDeps {
  dataRoot: string;
  hostname: string;
  engineVersion: string;
  ncpu: number;
  memTotal: number;
  /** Interfaces never chosen as the advertise address (the daemon's own bridges); `name*` is a prefix. */
  skipInterfaces?: string[];
  etcdClientPort?: number;
  etcdPeerPort?: number;
  etcdBinary?: string;
  log: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
  /** The store over the local member; EtcdStore unless a test says otherwise. */
  openStore?: (endpoints: string[], tls: TlsFiles) => ClusterStore;
  /** How long a store request may take before it fails (no quorum); default 3000 ms. */
  storeTimeoutMs?: number;
  /** This node's containers, for the tasks the swarm gives it; without, the node runs none. */
  taskContainers?: TaskContainers;
  /** This node's task containers' logs, for `docker service logs` (its own and a manager's request over the swarm port). */
  taskLogs?: TaskLogReader;
  /** Where a manager tells the swarm's events (services, nodes, secrets, configs, networks). */
  publishEvent?: PublishClusterEvent;
}

export interface SwarmUpdateFlags {
  version: number;
  rotateWorkerToken: boolean;
  rotateManagerToken: boolean;
}

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const SWARM_EXISTS = 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';
const NO_SWARM = 'This node is not part of a swarm';

/** Waits for every one of `work` (none is left running behind a failure), then throws the first failure. */
async function allDone(work: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export class SwarmService {
  private state: LocalSwarmState | undefined;
  private store: ClusterStore | undefined;
  /** The same store for API requests: a store without quorum answers dockerd's "no leader" (503). */
  private apiStore: ClusterStore | undefined;
  private member: EtcdMember | undefined;
  private heartbeat: NodeHeartbeat | undefined;
  private election: LeaderElection | undefined;
  private stopRoleWatch: (() => void) | undefined;
  private stopContacts: (() => void) | undefined;
  private swarmPort: Server | undefined;
  /** The etcd client module, loading or loaded (preloadStore). */
  private etcdModule: Promise<typeof import('./etcd-store.js')> | undefined;
  /** Whether this node leads the swarm now; for the orchestrator. Stable across restarts of swarm mode. */
  readonly leadership = new Leadership();
  private lastError = '';
  private readonly workloads: SwarmWorkloads;
  /** One init/leave/start at a time. */
  private busy: Promise<unknown> = Promise.resolve();
  private readonly membershipListeners: ((m: SwarmMembership | undefined) => void)[] = [];

  constructor(private readonly d: SwarmServiceDeps) {
    this.workloads = new SwarmWorkloads(d.taskContainers, this.leadership, (msg, f) => d.log.info(msg, f), d.publishEvent);
  }

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
      const state = await readSwarmState(this.dir);
      if (!state) return;
      this.preloadStore();
      this.state = state;
      try {
        if (state.role === 'manager') {
          const { pid, adopted } = await this.memberFor(state, 'new').start();
          this.d.log.info(adopted ? 'swarm: adopted the running etcd member' : 'swarm: started the etcd member', { pid, node: state.nodeId });
        }
        await this.openSession(state, { wait: false });
        // last: a busy swarm port stops joins, not the store, the heartbeat or `docker node ls`
        await this.openSwarmPort(state);
      } catch (err) {
        this.lastError = (err as Error).message;
        this.d.log.warn('swarm: could not resume swarm mode', { error: this.lastError });
      }
    });
  }

  /** berthd stopping: etcd keeps running, the lease is left to expire (the node shows down after its TTL). */
  async shutdown(): Promise<void> {
    await this.closeSession();
    this.member?.release();
  }

  /**
   * The store, the heartbeat, the election (managers) and the watch on this
   * node's role. `wait`: the first beat and campaign happen before returning
   * (init, join), else in the background (daemon start: etcd may be down).
   */
  private async openSession(state: LocalSwarmState, o: { wait: boolean; store?: ClusterStore }): Promise<void> {
    const store = o.store ?? (await this.openStore(state));
    this.store = store;
    this.apiStore = withNoLeaderErrors(store);
    this.heartbeat = new NodeHeartbeat(store, state.nodeId);
    // the first beat and the first campaign are independent: one round of waiting, not two
    const first: Promise<void>[] = [];
    if (o.wait) first.push(this.heartbeat.startNow());
    else this.heartbeat.startInBackground();
    if (state.role === 'manager') {
      this.election = new LeaderElection(store, state.nodeId, this.leadership, { log: (msg, f) => this.d.log.info(msg, f) });
      first.push(this.election.start({ wait: o.wait }));
    }
    await allDone(first);
    this.stopRoleWatch = watchOwnRole(store, state.nodeId, (role) => this.onRole(role));
    if (state.role === 'worker') this.stopContacts = followContacts(store, state.etcdEndpoints ?? [], (c) => this.onContacts(c));
    this.workloads.open(store, state.nodeId, state.role);
  }

  /** The managers changed since this worker last looked: its store goes through the current ones. */
  private onContacts(c: Contacts): void {
    void this.serial(async () => {
      const state = this.state;
      if (!state || state.role !== 'worker') return;
      this.d.log.info('swarm: the managers changed; the store now goes through them', { endpoints: c.etcdEndpoints.join(',') });
      await this.roleHost.switchState({ ...state, etcdEndpoints: c.etcdEndpoints, managers: c.managers });
    }).catch((err: Error) => this.d.log.warn('swarm: could not switch to the current managers', { error: err.message }));
  }

  /** Everything openSession and openSwarmPort started; the local etcd member stays as it is. */
  private async closeSession(): Promise<void> {
    await this.workloads.close();
    this.stopRoleWatch?.();
    this.stopRoleWatch = undefined;
    this.stopContacts?.();
    this.stopContacts = undefined;
    await this.closeSwarmPort();
    await this.election?.stop();
    this.election = undefined;
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    await this.store?.close().catch(() => {});
    this.store = undefined;
    this.apiStore = undefined;
  }

  private memberFor(state: LocalSwarmState, clusterState: 'new' | 'existing', initialCluster = `${state.nodeId}=${state.peerUrl}`): EtcdMember {
    const tls = this.tlsFiles;
    this.member = new EtcdMember({
      name: state.nodeId, dataRoot: this.d.dataRoot, clientUrl: state.clientUrl, peerUrl: state.peerUrl,
      clientTls: tls, peerTls: tls, initialCluster, clusterState,
      ...(this.d.etcdBinary ? { etcdBinary: this.d.etcdBinary } : {}),
      log: (msg) => this.d.log.warn(msg),
    });
    return this.member;
  }

  /**
   * Starts loading the etcd client (gRPC and protobufjs: 0.3 to 3 s on a
   * loaded machine) without waiting for it, so that it overlaps work that
   * has to happen anyway (etcd's start, the join exchange). A daemon outside
   * a swarm never loads it.
   */
  private preloadStore(): void {
    if (this.d.openStore || this.etcdModule) return;
    this.etcdModule = import('./etcd-store.js');
    this.etcdModule.catch(() => {}); // openStore reports it
  }

  private async openStore(state: LocalSwarmState): Promise<ClusterStore> {
    const endpoints = state.etcdEndpoints ?? [state.clientUrl];
    if (this.d.openStore) return this.d.openStore(endpoints, this.tlsFiles);
    this.preloadStore();
    const { EtcdStore } = await this.etcdModule!;
    return new EtcdStore({ endpoints, tls: this.tlsFiles, requestTimeoutMs: this.d.storeTimeoutMs ?? 3000 });
  }

  /**
   * Every node serves the swarm port (join-protocol.ts) on its listen
   * address, port 2377 by default: a manager the join protocol and its task
   * logs, a worker only its task logs (a manager's `docker service logs`).
   * A worker that cannot listen keeps running; its logs are then left out.
   */
  private async openSwarmPort(state: LocalSwarmState): Promise<void> {
    const creds = await loadNodeCredentials(this.certDir);
    const ca = await loadRootCA(this.certDir);
    if (!creds || !ca) throw new Unavailable('swarm.not_manager', 'this manager has no certificates');
    const listen = state.listenAddr || `0.0.0.0:${SWARM_PORT}`;
    const port = Number(/:(\d+)$/.exec(listen)?.[1] ?? SWARM_PORT);
    const host = hostOf(listen);
    const bindHost = host.includes('.') || host.includes(':') ? host : '0.0.0.0';
    const reader = this.d.taskLogs;
    const taskLogs = { clusterId: state.clusterId, logs: (ids: string[], q: TaskLogQuery, signal: AbortSignal) => (reader ? nodeTaskLogs(ids, q, signal, reader) : (async function* () {})()) };
    if (state.role !== 'manager') {
      this.swarmPort = await serveSwarmPort(bindHost, port, creds, ca.certPem, undefined, taskLogs).catch((err: Error) => {
        this.d.log.warn('swarm: could not serve task logs on the swarm port', { error: err.message, listen });
        return undefined;
      });
      return;
    }
    const authority = new SwarmAuthority({
      store: () => this.manager().store, clusterId: state.clusterId, ca, dataKey: () => loadDataKey(this.certDir), log: (msg, f) => this.d.log.info(msg, f),
      fileData: (kind, id) => (kind === 'secret' ? this.secrets : this.configs).data(id),
    });
    this.swarmPort = await serveSwarmPort(bindHost, port, creds, ca.certPem, authority, taskLogs);
  }

  private async closeSwarmPort(): Promise<void> {
    const server = this.swarmPort;
    this.swarmPort = undefined;
    if (server) await new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); });
  }

  /**
   * `docker swarm join`: pin the CA, present the token. A worker becomes an
   * etcd client with its certificate; a manager also adds itself to etcd
   * (through the members it was told of) and starts its own member.
   */
  join(req: { RemoteAddrs?: string[]; JoinToken?: string; AdvertiseAddr?: string; ListenAddr?: string }): Promise<void> {
    return this.serial(async () => {
      if (this.state) throw new Unavailable('swarm.exists', SWARM_EXISTS);
      const remote = req.RemoteAddrs?.[0];
      if (!remote) throw new InvalidParameter('swarm.join_request', 'at least 1 RemoteAddr is required to join');
      const advertise = req.AdvertiseAddr ? resolveAdvertiseIp({ advertiseAddr: req.AdvertiseAddr }, networkInterfaces()) : undefined;
      this.preloadStore();
      const answer = await requestJoin(remote.includes(':') ? remote : `${remote}:${SWARM_PORT}`, req.JoinToken ?? '', advertise, nodeDescription(this.d));
      await rm(this.dir, { recursive: true, force: true });
      try {
        await Promise.all([
          saveRootCA(this.certDir, rootCAFromPem(answer.caPem, answer.caKeyPem), { withKey: answer.role === 'manager' }),
          answer.role === 'manager' && answer.dataKey ? saveDataKey(this.certDir, Buffer.from(answer.dataKey, 'base64')) : undefined,
          saveNodeCredentials(this.certDir, { certPem: answer.certPem, keyPem: answer.keyPem }),
        ]);
        const state: LocalSwarmState = {
          ...this.etcdUrls(answer.role, answer.addr), nodeId: answer.nodeId, clusterId: answer.clusterId, role: answer.role, advertiseIp: answer.addr,
          listenAddr: req.ListenAddr || `0.0.0.0:${SWARM_PORT}`, etcdEndpoints: answer.etcdEndpoints, managers: answer.managers,
        };
        if (state.role === 'manager') await this.becomeMember(state, answer.etcdEndpoints);
        this.state = state;
        await this.openSession(state, { wait: true });
        await this.openSwarmPort(state);
        await writeSwarmState(this.dir, state);
        this.d.log.info(`swarm: joined as a ${state.role}`, { node: state.nodeId, managers: answer.managers.map((m) => m.addr) });
      } catch (err) {
        this.state = undefined;
        await this.teardown();
        throw err;
      }
    });
  }

  /** A manager's etcd URLs on its advertise address; none for a worker. */
  private etcdUrls(role: 'manager' | 'worker', advertiseIp: string): Pick<LocalSwarmState, 'clientUrl' | 'peerUrl'> {
    if (role === 'worker') return { clientUrl: '', peerUrl: '' };
    const host = advertiseIp.includes(':') ? `[${advertiseIp}]` : advertiseIp;
    return { clientUrl: `https://${host}:${this.d.etcdClientPort ?? 2379}`, peerUrl: `https://${host}:${this.d.etcdPeerPort ?? 2380}` };
  }

  /** Adds this node's etcd member through the members at `endpoints`; the store then uses every member, its own first. */
  private async becomeMember(state: LocalSwarmState, endpoints: string[]): Promise<void> {
    const bootstrap = await this.openStore({ ...state, etcdEndpoints: endpoints });
    try {
      await joinEtcdCluster(bootstrap, { name: state.nodeId, peerUrl: state.peerUrl }, (initialCluster) => this.memberFor(state, 'existing', initialCluster));
    } catch (err) {
      // a joiner that never became a member leaves no manager record behind to count against the quorum
      if (state.role === 'manager' && !this.state) await bootstrap.delete(nodeKey(state.nodeId)).catch(() => false);
      throw err;
    } finally {
      await bootstrap.close().catch(() => {});
    }
    state.etcdEndpoints = [state.clientUrl, ...endpoints.filter((u) => u !== state.clientUrl)];
    delete state.managers;
  }

  /** What swarm-roles.ts uses of this service to change this node's role. */
  private get roleHost(): RoleChangeHost {
    return {
      certDir: this.certDir,
      etcdUrls: (role, ip) => this.etcdUrls(role, ip),
      becomeMember: (state, endpoints) => this.becomeMember(state, endpoints),
      localMember: (state) => this.member ?? this.memberFor(state, 'new'),
      forgetMember: () => { this.member = undefined; },
      stopManaging: async () => {
        await this.election?.stop();
        this.election = undefined;
        await this.closeSwarmPort();
      },
      switchState: async (next) => {
        await this.closeSession();
        this.state = next;
        await writeSwarmState(this.dir, next);
        await this.openSession(next, { wait: false });
        await this.openSwarmPort(next);
      },
    };
  }

  /** This node's record says another role (`node promote/demote`): follow it, in turn with other swarm operations. */
  private onRole(role: 'manager' | 'worker' | 'removed'): void {
    if (role === 'removed' || !this.state || role === this.state.role) return;
    void this.serial(async () => {
      const state = this.state;
      if (!state || state.role === role) return;
      const next = role === 'manager' ? await promoteSelf(this.roleHost, state, this.store!) : await demoteSelf(this.roleHost, state, this.store!);
      if (next) this.d.log.info(`swarm: this node is now a ${next.role}`, { node: next.nodeId });
      this.lastError = '';
    }).catch((err: Error) => {
      this.lastError = `could not become a ${role}: ${err.message}`;
      this.d.log.warn('swarm: role change failed; retrying', { role, error: err.message });
      // the record said so once: ask again, it may have changed back meanwhile
      setTimeout(() => void this.store?.get(nodeKey(this.state?.nodeId ?? '')).then((kv) => kv && this.onRole((JSON.parse(kv.value) as NodeRecord).spec.Role)).catch(() => {}), 3000).unref();
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
        nodeId: newSwarmId(), clusterId: newSwarmId(), role: 'manager', advertiseIp, listenAddr: req.ListenAddr || '0.0.0.0:2377', ...this.etcdUrls('manager', advertiseIp),
      };
      // an init interrupted by a crash may have left a member running on this data root
      await this.memberFor(state, 'new').stop().catch(() => {});
      await rm(this.dir, { recursive: true, force: true });
      try {
        const ca = await createRootCA();
        const creds = await issueNodeCertificate(ca, { nodeId: state.nodeId, role: 'manager', clusterId: state.clusterId, ipAddresses: [...new Set([advertiseIp, '127.0.0.1'])] });
        await Promise.all([saveRootCA(this.certDir, ca, { withKey: true }), saveDataKey(this.certDir, newDataKey()), saveNodeCredentials(this.certDir, creds)]);
        const member = this.memberFor(state, 'new');
        await member.start();
        // while etcd comes up the main thread only polls its /health: load the client meanwhile (not
        // earlier: its hundreds of file reads would hold up the certificates' and etcd's spawn on libuv's pool)
        this.preloadStore();
        await member.waitHealthy();
        const store = await this.openStore(state);
        const now = new Date().toISOString();
        const cluster: ClusterRecord = {
          id: state.clusterId, createdAt: now, updatedAt: now, spec, joinTokens: generateJoinTokens(ca.digest), rootCaCertPem: ca.certPem,
          defaultAddrPool: req.DefaultAddrPool?.length ? req.DefaultAddrPool : ['10.0.0.0/8'], subnetSize: req.SubnetSize || 24,
          dataPathPort: req.DataPathPort || 4789,
        };
        const node: NodeRecord = {
          id: state.nodeId, createdAt: now, updatedAt: now, spec: { Labels: {}, Role: 'manager', Availability: 'active' },
          description: nodeDescription(this.d), addr: advertiseIp, managerAddr: `${host}:${SWARM_PORT}`,
        };
        // the session keeps this store: one connection to etcd, not a second one
        const r = await store.txn({
          compare: [{ key: CLUSTER_KEY, modRevision: 0 }],
          success: [
            { put: CLUSTER_KEY, value: JSON.stringify(cluster) }, { put: nodeKey(node.id), value: JSON.stringify(node) },
            ...ingressNetworkOps(newSwarmId(), { pools: cluster.defaultAddrPool!, subnetSize: cluster.subnetSize || 24 }, now).ops,
          ],
        }).catch(async (err: unknown) => {
          await store.close().catch(() => {});
          throw err;
        });
        if (!r.succeeded) {
          await store.close().catch(() => {});
          throw new Conflict('swarm.exists', 'the new etcd member already holds a swarm');
        }
        this.state = state;
        await allDone([this.openSession(state, { wait: true, store }), this.openSwarmPort(state)]);
        await writeSwarmState(this.dir, state);
        this.d.log.info('swarm initialized', { node: state.nodeId, cluster: state.clusterId, advertise: advertiseIp, etcd: state.clientUrl });
        return state.nodeId;
      } catch (err) {
        this.state = undefined;
        await this.teardown();
        throw err;
      }
    });
  }

  /** Stops the heartbeat, the store and the member, and removes every swarm file. */
  private async teardown(): Promise<void> {
    await this.closeSession();
    await this.member?.destroy().catch((err: Error) => this.d.log.warn('swarm: could not stop the etcd member', { error: err.message }));
    this.member = undefined;
    await rm(this.dir, { recursive: true, force: true });
  }

  /**
   * A manager leaves only with --force (dockerd's message says why); it
   * resigns and removes its etcd member first when others remain, so their
   * quorum counts only the members left.
   */
  leave(force: boolean): Promise<void> {
    return this.serial(async () => {
      const state = this.state;
      if (!state) throw new Unavailable('swarm.not_in_swarm', NO_SWARM);
      if (state.role === 'manager' && !force) {
        const stats = this.apiStore ? await readNodes(this.apiStore).then((r) => managerStats(r.views, state.nodeId), () => undefined) : undefined;
        const refusal = leaveManagerRefusal(stats);
        throw new Unavailable(refusal.code, refusal.message);
      }
      await this.election?.stop();
      // the heartbeat goes at once: managers show this node down (it stays listed until `node rm`, as in Docker)
      await this.store?.delete(heartbeatKey(state.nodeId)).catch(() => false);
      if (this.store) {
        await releaseNodeNetworking(this.store, state.nodeId)
          .catch((err: Error) => this.d.log.warn('swarm: could not release this node\'s overlay addresses', { error: err.message }));
      }
      // a manager whose resume failed has no member object: make one to stop (by pid) and delete what runs
      if (state.role === 'manager' && !this.member) this.memberFor(state, 'new');
      if (state.role === 'manager' && this.store) {
        const others = await this.store.listMembers().then((ms) => ms.some((m) => m.name !== state.nodeId), () => false);
        if (others) await leaveCluster(this.member!, this.store).catch((err: Error) => this.d.log.warn('swarm: could not remove this etcd member', { error: err.message }));
      }
      // the state file goes first: a crash from here on restarts as a daemon outside any swarm
      await rm(join(this.dir, 'state.json'), { force: true });
      this.state = undefined;
      await this.teardown();
      await this.workloads.removeTaskContainers();
      this.lastError = '';
    });
  }

  /** The node and cluster routes' half: reads and writes of node objects, on a manager. */
  readonly nodes = new SwarmNodes(() => this.manager().store);

  /** Secrets, sealed with the cluster data key this manager holds (data-key.ts), and configs. */
  readonly secrets = new SwarmFileObjects<SecretView>('secret', () => this.manager().store, sealedWith(() => requireDataKey(this.certDir)));
  readonly configs = new SwarmFileObjects<ConfigView>('config', () => this.manager().store, plainBase64);

  /**
   * Where a task's secret and config data come from on this node, for
   * resolveTaskFiles (task-files.ts): the store on a manager (which holds
   * the data key); on a worker, a manager over the swarm port, which gives
   * only what a task assigned to this node references.
   */
  taskFileSource(refs: TaskFileRefs): Promise<TaskFileSource> {
    const state = this.state;
    if (!state || !this.store) return Promise.reject(new Unavailable('swarm.not_in_swarm', NO_SWARM));
    return taskFileSource(refs, { role: state.role, managers: state.managers ?? [], store: this.store, certDir: this.certDir, secrets: this.secrets, configs: this.configs });
  }

  /** The service and task routes' half, on a manager. */
  readonly services = new SwarmServices(() => this.manager().store);

  /** `docker service logs` (a service or a task): this node's tasks read here, the others' asked of their nodes. */
  async serviceLogs(sel: LogSelector, q: TaskLogQuery, signal: AbortSignal): Promise<{ tty: boolean; entries: AsyncIterable<LogEntry> }> {
    const { state, store } = this.manager();
    const [creds, ca] = await Promise.all([loadNodeCredentials(this.certDir), loadRootCA(this.certDir)]);
    const reader = this.d.taskLogs;
    return serviceLogs(sel, q, signal, {
      store, self: state.nodeId,
      local: (ids, lq, s) => (reader ? nodeTaskLogs(ids, lq, s, reader) : (async function* () {})()),
      remote: (target, ids, lq, s) => {
        if (!creds || !ca) throw new Unavailable('swarm.not_manager', 'this manager has no certificates');
        return requestTaskLogs(target, ca.certPem, creds, ids, lq, s);
      },
    });
  }

  /** This node's state and its API store, if it is a manager; else dockerd's refusal. */
  private manager(): { state: LocalSwarmState; store: ClusterStore } {
    if (!this.state || !this.apiStore) throw new Unavailable('swarm.not_manager', NOT_MANAGER);
    if (this.state.role !== 'manager') {
      throw new Unavailable('swarm.not_manager', "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.");
    }
    return { state: this.state, store: this.apiStore };
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

  /** The `Swarm` block of `GET /info`. */
  info(): Promise<SwarmInfoView> {
    return swarmInfo(this.state, this.apiStore, this.lastError || this.heartbeat?.lastError || '');
  }

  /** `active/manager`, `active/worker` or `inactive`, for the `Swarm` header of `/_ping`. */
  pingState(): string {
    return this.state ? `active/${this.state.role}` : 'inactive';
  }
}
