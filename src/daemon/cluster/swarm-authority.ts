/**
 * A manager's side of the swarm port (join-protocol.ts): admitting a node
 * that presents a join token, and issuing a member node the certificate its
 * role now calls for.
 *
 *   const authority = new SwarmAuthority({ store: () => store, clusterId, ca, log });
 *   await serveSwarmPort(host, 2377, creds, ca.certPem, authority);
 *
 * The token decides a joiner's role; a manager's certificate carries its
 * address and 127.0.0.1 as IP SANs, since etcd's peers and clients check
 * them, and the answer carries the root CA's key. The node record is
 * written here, before the joiner has started anything: a manager joiner
 * then adds itself to etcd with `addMember` (manager-membership.ts).
 */
import { Forbidden, NotFound } from '../../errdefs/index.js';
import { publicRootCA, type RootCA } from './ca.js';
import { MANAGER_OU, WORKER_OU } from './cert-profile.js';
import type { CertificateAnswer, JoinAnswer, JoinAuthority, JoinRequest } from './join-protocol.js';
import { roleForJoinToken } from './join-token.js';
import { newSwarmId } from './ids.js';
import { issueNodeCertificate, type NodeIdentity } from './node-cert.js';
import type { ClusterStore } from './store.js';
import { readCluster, readNodes } from './swarm-nodes.js';
import { nodeKey, SWARM_PORT, type NodeRecord } from './swarm-objects.js';
import { authorizeNode } from './tls-options.js';

export interface SwarmAuthorityDeps {
  store: () => ClusterStore;
  clusterId: string;
  /** The root CA with its key. */
  ca: RootCA;
  log: (msg: string, f?: Record<string, unknown>) => void;
}

/** The managers' swarm addresses and the store's client URLs, for a node that joins or changes role. */
export async function swarmContacts(store: ClusterStore): Promise<Pick<CertificateAnswer, 'managers' | 'etcdEndpoints'>> {
  const [{ views }, members] = await Promise.all([readNodes(store), store.listMembers()]);
  return {
    managers: views.filter((v) => v.ManagerStatus).map((v) => ({ nodeId: v.ID, addr: v.ManagerStatus!.Addr })),
    etcdEndpoints: members.flatMap((m) => m.clientUrls),
  };
}

export class SwarmAuthority implements JoinAuthority {
  constructor(private readonly d: SwarmAuthorityDeps) {}

  async rootCaPem(): Promise<string> {
    return this.d.ca.certPem;
  }

  private async issue(nodeId: string, role: 'manager' | 'worker', addr: string): Promise<Pick<CertificateAnswer, 'certPem' | 'keyPem' | 'caKeyPem'>> {
    const ips = role === 'manager' ? [...new Set([addr, '127.0.0.1'].filter(Boolean))] : addr ? [addr] : [];
    const creds = await issueNodeCertificate(this.d.ca, { nodeId, role, clusterId: this.d.clusterId, ...(ips.length ? { ipAddresses: ips } : {}) });
    return { ...creds, ...(role === 'manager' ? { caKeyPem: this.d.ca.keyPem! } : {}) };
  }

  async admit(req: JoinRequest): Promise<JoinAnswer> {
    const store = this.d.store();
    const { record: cluster } = await readCluster(store);
    const role = roleForJoinToken(req.token, cluster.joinTokens);
    const nodeId = newSwarmId();
    // a worker is not among the managers it is told of: its contacts need not wait for its record
    const early = role === 'worker' ? swarmContacts(store) : undefined;
    early?.catch(() => {}); // awaited below
    const creds = await this.issue(nodeId, role, req.addr);
    const now = new Date().toISOString();
    const host = req.addr.includes(':') ? `[${req.addr}]` : req.addr;
    const node: NodeRecord = {
      id: nodeId, createdAt: now, updatedAt: now, spec: { Labels: {}, Role: role, Availability: 'active' },
      description: { ...req.description, TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' } }, addr: req.addr,
      ...(role === 'manager' ? { managerAddr: `${host}:${SWARM_PORT}` } : {}),
    };
    await store.txn({ compare: [{ key: nodeKey(nodeId), modRevision: 0 }], success: [{ put: nodeKey(nodeId), value: JSON.stringify(node) }] });
    this.d.log(`swarm: a ${role} joined`, { node: nodeId, addr: req.addr });
    const contacts = await (early ?? swarmContacts(store));
    return {
      nodeId, addr: req.addr, clusterId: this.d.clusterId, role, ...creds, caPem: publicRootCA(this.d.ca).certPem, ...contacts,
    };
  }

  async certificate(peer: NodeIdentity): Promise<CertificateAnswer> {
    const nodeId = authorizeNode(peer, this.d.clusterId, [MANAGER_OU, WORKER_OU]);
    const store = this.d.store();
    const kv = await store.get(nodeKey(nodeId));
    if (!kv) throw new NotFound('swarm.node_not_found', `node ${nodeId} not found`);
    const record = JSON.parse(kv.value) as NodeRecord;
    if (!record.addr) throw new Forbidden('swarm.permission_denied', `node ${nodeId} has no address`);
    const creds = await this.issue(nodeId, record.spec.Role, record.addr);
    this.d.log('swarm: issued a node certificate', { node: nodeId, role: record.spec.Role });
    return { role: record.spec.Role, ...creds, ...(await swarmContacts(store)) };
  }
}
