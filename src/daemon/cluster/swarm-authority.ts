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
import { Forbidden, NotFound, Unavailable } from '../../errdefs/index.js';
import { publicRootCA, type RootCA } from './ca.js';
import { MANAGER_OU, WORKER_OU } from './cert-profile.js';
import type { CertificateAnswer, JoinAnswer, JoinAuthority, JoinRequest, TaskFilesAnswer, TaskFilesRequest } from './join-protocol.js';
import { nodeMayRead, taskRefsOf, type SwarmFileKind } from './secret-objects.js';
import { TASKS_PREFIX } from './service-records.js';
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
  /** The cluster data key, handed to managers with the CA key (undefined: a swarm made before data keys). */
  dataKey?: () => Promise<Buffer | undefined>;
  /** The data of a secret or config by id, in clear (secrets.ts); for `/v1/task-files`. */
  fileData?: (kind: SwarmFileKind, id: string) => Promise<Buffer>;
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

  private async issue(nodeId: string, role: 'manager' | 'worker', addr: string): Promise<Pick<CertificateAnswer, 'certPem' | 'keyPem' | 'caKeyPem' | 'dataKey'>> {
    const ips = role === 'manager' ? [...new Set([addr, '127.0.0.1'].filter(Boolean))] : addr ? [addr] : [];
    const creds = await issueNodeCertificate(this.d.ca, { nodeId, role, clusterId: this.d.clusterId, ...(ips.length ? { ipAddresses: ips } : {}) });
    if (role !== 'manager') return creds;
    const dataKey = await this.d.dataKey?.();
    return { ...creds, caKeyPem: this.d.ca.keyPem!, ...(dataKey ? { dataKey: dataKey.toString('base64') } : {}) };
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

  /**
   * Secret and config data for a node: a manager may have any (it holds
   * the data key anyway); a worker only what a task assigned to it
   * references, as swarmkit's dispatcher sends it.
   */
  async taskFiles(peer: NodeIdentity, req: TaskFilesRequest): Promise<TaskFilesAnswer> {
    const nodeId = authorizeNode(peer, this.d.clusterId, [MANAGER_OU, WORKER_OU]);
    const fileData = this.d.fileData;
    if (!fileData) throw new Unavailable('swarm.not_manager', 'this manager does not serve secrets');
    const store = this.d.store();
    // a manager certificate counts only while the node's record still says manager (one demoted while down keeps its old certificate)
    const record = await store.get(nodeKey(nodeId)).then((kv) => (kv ? (JSON.parse(kv.value) as NodeRecord) : undefined));
    if (!record) throw new NotFound('swarm.node_not_found', `node ${nodeId} not found`);
    if (peer.role !== 'manager' || record.spec.Role !== 'manager') {
      const tasks = (await store.list(TASKS_PREFIX)).items.flatMap((kv) => taskRefsOf(kv.value) ?? []);
      for (const [kind, ids] of [['secret', req.secrets], ['config', req.configs]] as const) {
        const denied = ids.find((id) => !nodeMayRead(kind, id, nodeId, tasks));
        if (denied) throw new Forbidden('swarm.permission_denied', `Permission denied: no task assigned to node ${nodeId} references ${kind} ${denied}`);
      }
    }
    const read = async (kind: SwarmFileKind, ids: string[]) => Object.fromEntries(await Promise.all(ids.map(async (id) => [id, (await fileData(kind, id)).toString('base64')] as const)));
    this.d.log('swarm: sent task files', { node: nodeId, secrets: req.secrets.length, configs: req.configs.length });
    return { secrets: await read('secret', req.secrets), configs: await read('config', req.configs) };
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
