/**
 * The swarm's own objects as they sit in the cluster store, and the pure
 * functions that turn them into the Engine API's views. No I/O here:
 * swarm-service.ts reads and writes the store, this file decides.
 *
 *   /berth/swarm/cluster              ClusterRecord (one per swarm)
 *   /berth/swarm/nodes/<node id>      NodeRecord (spec, description, addresses)
 *   /berth/swarm/heartbeats/<node id> bound to the node's lease (TTL 10 s): present = ready, gone = down
 *   /berth/swarm/leader               the leading manager's id, bound to its lease (leader-election.ts)
 *
 * An object's `Version.Index` is the etcd modRevision of its key: an update
 * carries the index it read, and the write is a transaction on that
 * revision, so a stale update is refused (`update out of sequence`) the way
 * swarmkit refuses it.
 */
import { X509Certificate } from 'node:crypto';
import type { Filters } from '../../api/filters.js';
import type { ClusterInfoView, NodeSpec, NodeView, SwarmSpec, SwarmView } from '../../api/types/index.js';
import { InvalidParameter } from '../../errdefs/index.js';
import type { JoinTokens } from './join-token.js';

export const SWARM_PREFIX = '/berth/swarm/';
export const CLUSTER_KEY = `${SWARM_PREFIX}cluster`;
export const NODES_PREFIX = `${SWARM_PREFIX}nodes/`;
export const HEARTBEATS_PREFIX = `${SWARM_PREFIX}heartbeats/`;
export const nodeKey = (id: string) => `${NODES_PREFIX}${id}`;
export const heartbeatKey = (id: string) => `${HEARTBEATS_PREFIX}${id}`;

/** How long a node stays Ready without renewing its heartbeat lease. */
export const NODE_LEASE_TTL_SECONDS = 10;
/** The swarm port (managers' join endpoint and `ManagerStatus.Addr`). */
export const SWARM_PORT = 2377;

export interface ClusterRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  spec: SwarmSpec;
  joinTokens: JoinTokens;
  rootCaCertPem: string;
  defaultAddrPool: string[];
  subnetSize: number;
  dataPathPort: number;
}

export interface NodeRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  spec: Required<Pick<NodeSpec, 'Role' | 'Availability'>> & { Name?: string; Labels: Record<string, string> };
  description: NodeView['Description'];
  /** The advertise IP (`Status.Addr`). */
  addr: string;
  /** `ip:2377` for managers. */
  managerAddr?: string;
}

const SECOND_NS = 1_000_000_000;

/** What swarmkit fills in when `swarm init` leaves a field out (or zero). */
export function defaultSwarmSpec(): SwarmSpec {
  return {
    Name: 'default',
    Labels: {},
    Orchestration: { TaskHistoryRetentionLimit: 5 },
    Raft: { SnapshotInterval: 10000, KeepOldSnapshots: 0, LogEntriesForSlowFollowers: 500, ElectionTick: 10, HeartbeatTick: 1 },
    Dispatcher: { HeartbeatPeriod: 5 * SECOND_NS },
    CAConfig: { NodeCertExpiry: 90 * 24 * 3600 * SECOND_NS },
    TaskDefaults: {},
    EncryptionConfig: { AutoLockManagers: false },
  };
}

function unsupported(message: string): InvalidParameter {
  return new InvalidParameter('swarm.unsupported_option', message);
}

/** Refuses what berth does not do yet, in words that say so (never silently ignored). */
export function checkSupportedSpec(spec: SwarmSpec | undefined): void {
  if (spec?.EncryptionConfig?.AutoLockManagers) throw unsupported('autolock is not supported by berth: the swarm keeps its state in etcd, whose data is not encrypted at rest; use swarm init without --autolock');
  if (spec?.CAConfig?.ExternalCAs?.length) throw unsupported('external CAs are not supported by berth');
  if (spec?.CAConfig?.SigningCACert || spec?.CAConfig?.SigningCAKey) throw unsupported('a custom root CA (--external-ca, signing CA cert/key) is not supported by berth');
}

/**
 * `given` over `base`, section by section: a zero or missing field keeps the
 * base's value, as swarmkit's defaults merge for `swarm init` (and as the
 * CLI's `swarm update` sends the full spec it read, changed fields set).
 */
export function mergeSwarmSpec(base: SwarmSpec, given: SwarmSpec | undefined): SwarmSpec {
  if (!given) return structuredClone(base);
  const pick = <T extends object>(b: T | undefined, g: T | undefined): T => {
    const out = { ...(b ?? {}) } as Record<string, unknown>;
    for (const [k, v] of Object.entries(g ?? {})) if (v !== undefined && v !== null && v !== 0 && v !== '') out[k] = v;
    return out as T;
  };
  const n = (v: number | undefined) => (v !== undefined && v < 0 ? (() => { throw new InvalidParameter('swarm.invalid_spec', `invalid negative value ${v}`); })() : v);
  n(given.Orchestration?.TaskHistoryRetentionLimit);
  n(given.Dispatcher?.HeartbeatPeriod);
  return {
    Name: given.Name || base.Name || 'default',
    Labels: given.Labels ?? base.Labels ?? {},
    Orchestration: pick(base.Orchestration, given.Orchestration),
    Raft: pick(base.Raft, given.Raft),
    Dispatcher: pick(base.Dispatcher, given.Dispatcher),
    CAConfig: pick(base.CAConfig, given.CAConfig),
    TaskDefaults: given.TaskDefaults ?? base.TaskDefaults ?? {},
    EncryptionConfig: { AutoLockManagers: given.EncryptionConfig?.AutoLockManagers ?? base.EncryptionConfig?.AutoLockManagers ?? false },
  };
}

/** The DER of `CN=swarm-ca` style subjects, base64: one RDN, one UTF8String CN (what openssl -subj writes). */
function tlsInfo(rootCaCertPem: string): ClusterInfoView['TLSInfo'] {
  try {
    const cert = new X509Certificate(rootCaCertPem);
    const cn = /CN=([^\n]+)/.exec(cert.subject)?.[1] ?? '';
    const value = Buffer.from(cn, 'utf8');
    const atv = Buffer.concat([Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, value.length]), value]);
    const seq = Buffer.concat([Buffer.from([0x30, atv.length]), atv]);
    const set = Buffer.concat([Buffer.from([0x31, seq.length]), seq]);
    const name = Buffer.concat([Buffer.from([0x30, set.length]), set]);
    return {
      TrustRoot: rootCaCertPem,
      CertIssuerSubject: name.toString('base64'),
      CertIssuerPublicKey: cert.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    };
  } catch {
    return { TrustRoot: rootCaCertPem, CertIssuerSubject: '', CertIssuerPublicKey: '' };
  }
}

/** `Info.Swarm.Cluster`: the swarm without its join tokens. */
export function clusterInfoView(c: ClusterRecord, modRevision: number): ClusterInfoView {
  return {
    ID: c.id,
    Version: { Index: modRevision },
    CreatedAt: c.createdAt,
    UpdatedAt: c.updatedAt,
    Spec: c.spec,
    TLSInfo: tlsInfo(c.rootCaCertPem),
    RootRotationInProgress: false,
    DefaultAddrPool: c.defaultAddrPool,
    SubnetSize: c.subnetSize,
    DataPathPort: c.dataPathPort,
  };
}

/** `GET /swarm`. */
export function swarmView(c: ClusterRecord, modRevision: number): SwarmView {
  return { ...clusterInfoView(c, modRevision), JoinTokens: { Worker: c.joinTokens.worker, Manager: c.joinTokens.manager } };
}

/** `GET /nodes/{id}`: ready (and reachable, for a manager) while its heartbeat key lives; `leaderId` holds the election key. */
export function nodeView(n: NodeRecord, modRevision: number, alive: boolean, leaderId: string, rootCaCertPem: string): NodeView {
  const view: NodeView = {
    ID: n.id,
    Version: { Index: modRevision },
    CreatedAt: n.createdAt,
    UpdatedAt: n.updatedAt,
    Spec: { ...(n.spec.Name ? { Name: n.spec.Name } : {}), Labels: n.spec.Labels, Role: n.spec.Role, Availability: n.spec.Availability },
    Description: { ...n.description, TLSInfo: tlsInfo(rootCaCertPem) },
    Status: { State: alive ? 'ready' : 'down', ...(alive ? {} : { Message: 'heartbeat failure' }), Addr: n.addr },
  };
  if (n.spec.Role === 'manager') {
    view.ManagerStatus = { ...(n.id === leaderId ? { Leader: true } : {}), Reachability: alive ? 'reachable' : 'unreachable', Addr: n.managerAddr ?? `${n.addr}:${SWARM_PORT}` };
  }
  return view;
}

export const NODE_FILTERS = ['id', 'label', 'name', 'node.label', 'membership', 'role'];

/** moby's newListNodesFilters and swarmkit's ListNodes matching (id and name by prefix). */
export function nodeMatches(f: Filters, n: NodeView): boolean {
  for (const r of f.get('role')) if (r !== 'manager' && r !== 'worker') throw new InvalidParameter('filter.invalid', `Invalid role filter: '${r}'`);
  for (const m of f.get('membership')) if (m !== 'accepted' && m !== 'pending') throw new InvalidParameter('filter.invalid', `Invalid membership filter: '${m}'`);
  const name = n.Spec.Name || n.Description.Hostname;
  return f.prefix('id', n.ID)
    && f.prefix('name', name)
    && f.exact('role', n.Spec.Role ?? 'worker')
    // every node berth lists was admitted with a token: none waits for acceptance
    && f.exact('membership', 'accepted')
    && f.matchKVList('label', n.Description.Engine.Labels ?? {})
    && f.matchKVList('node.label', n.Spec.Labels ?? {});
}

/**
 * The node a reference names, as moby's getNode: the full id, then a name
 * (Spec.Name or hostname), then a unique id prefix.
 */
export function resolveNodeRef<T extends { id: string; name: string }>(ref: string, nodes: T[]): T | undefined | 'ambiguous' {
  const byId = nodes.find((n) => n.id === ref);
  if (byId) return byId;
  const byName = nodes.filter((n) => n.name === ref);
  if (byName.length === 1) return byName[0];
  if (byName.length > 1) return 'ambiguous';
  const byPrefix = nodes.filter((n) => n.id.startsWith(ref));
  if (byPrefix.length > 1) return 'ambiguous';
  return byPrefix[0];
}

/** A node update: the whole spec replaces the old one (as the CLI sends it), checked. */
export function applyNodeSpec(n: NodeRecord, spec: NodeSpec, now: string): NodeRecord {
  const role = spec.Role ?? n.spec.Role;
  const availability = spec.Availability ?? n.spec.Availability;
  if (role !== 'manager' && role !== 'worker') throw new InvalidParameter('swarm.invalid_node_spec', `invalid role "${String(role)}"`);
  if (!['active', 'pause', 'drain'].includes(availability)) throw new InvalidParameter('swarm.invalid_node_spec', `invalid availability "${String(availability)}"`);
  return { ...n, updatedAt: now, spec: { ...(spec.Name ? { Name: spec.Name } : {}), Labels: spec.Labels ?? {}, Role: role, Availability: availability } };
}

/** What a node says of itself when it joins or inits (`Description` of its node object). */
export function nodeDescription(d: { hostname: string; engineVersion: string; ncpu: number; memTotal: number }): NodeRecord['description'] {
  return {
    Hostname: d.hostname,
    Platform: { Architecture: process.arch === 'x64' ? 'x86_64' : process.arch, OS: 'linux' },
    Resources: { NanoCPUs: d.ncpu * 1e9, MemoryBytes: d.memTotal },
    Engine: {
      EngineVersion: d.engineVersion,
      Plugins: [
        { Type: 'Log', Name: 'json-file' }, { Type: 'Network', Name: 'bridge' }, { Type: 'Network', Name: 'host' },
        { Type: 'Network', Name: 'null' }, { Type: 'Volume', Name: 'local' },
      ],
    },
    TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' },
  };
}
