/**
 * A node following its record's role (`docker node promote/demote`, `node
 * update --role`), as swarmkit's node does after a role change: the steps,
 * over what the swarm service lends it (`RoleChangeHost`).
 *
 *   worker -> manager: a manager certificate, the CA key and the data key from a manager
 *     (POST /v1/certificate on 2377, authenticated by the worker's
 *     certificate), then its own etcd member (addMember + start `existing`),
 *     then the session again as a manager (store on every member, election,
 *     swarm port).
 *   manager -> worker: a worker certificate issued here while the CA key is
 *     at hand, resign, remove its etcd member (member remove, stop, delete
 *     the data), drop the CA key and the data key, then the session again as a worker (store
 *     on the remaining members).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Unavailable } from '../../errdefs/index.js';
import { rootCAFromPem } from './ca.js';
import { DATA_KEY_FILE, saveDataKey } from './data-key.js';
import { leaveCluster, type EtcdMember } from './etcd-member.js';
import { requestCertificate } from './join-protocol.js';
import { issueNodeCertificate } from './node-cert.js';
import { loadNodeCredentials, loadRootCA, ROOT_CA_KEY_FILE, saveNodeCredentials, saveRootCA } from './pki-files.js';
import type { ClusterStore } from './store.js';
import type { LocalSwarmState } from './swarm-state.js';
import { readNodes } from './swarm-nodes.js';

export interface RoleChangeHost {
  readonly certDir: string;
  /** A manager's etcd client and peer URLs on this advertise IP. */
  etcdUrls(role: 'manager', advertiseIp: string): Pick<LocalSwarmState, 'clientUrl' | 'peerUrl'>;
  /** Adds and starts this node's etcd member through the members at `endpoints`; sets `state.etcdEndpoints`. */
  becomeMember(state: LocalSwarmState, endpoints: string[]): Promise<void>;
  /** This manager's etcd member; forgotten after `leaveCluster`. */
  localMember(state: LocalSwarmState): EtcdMember;
  forgetMember(): void;
  /** Ends the election (resigning) and closes the swarm port. */
  stopManaging(): Promise<void>;
  /** Closes the session, records `next` as this node's state and opens a session for it. */
  switchState(next: LocalSwarmState): Promise<void>;
}

export async function promoteSelf(host: RoleChangeHost, state: LocalSwarmState, store: ClusterStore): Promise<LocalSwarmState | undefined> {
  const [{ views }, creds, ca] = await Promise.all([readNodes(store), loadNodeCredentials(host.certDir), loadRootCA(host.certDir)]);
  if (!creds || !ca) throw new Unavailable('swarm.not_manager', 'this node has no certificates');
  const managers = views.filter((v) => v.ManagerStatus?.Reachability === 'reachable').map((v) => v.ManagerStatus!.Addr);
  const answer = await requestCertificate(managers, ca.certPem, creds);
  if (answer.role !== 'manager') return undefined; // demoted again meanwhile
  await saveRootCA(host.certDir, rootCAFromPem(ca.certPem, answer.caKeyPem), { withKey: true });
  if (answer.dataKey) await saveDataKey(host.certDir, Buffer.from(answer.dataKey, 'base64'));
  await saveNodeCredentials(host.certDir, answer);
  const next: LocalSwarmState = { ...state, ...host.etcdUrls('manager', state.advertiseIp), role: 'manager' };
  await host.becomeMember(next, answer.etcdEndpoints);
  await host.switchState(next);
  return next;
}

export async function demoteSelf(host: RoleChangeHost, state: LocalSwarmState, store: ClusterStore): Promise<LocalSwarmState> {
  const ca = await loadRootCA(host.certDir);
  if (!ca?.keyPem) throw new Unavailable('swarm.not_manager', 'this manager has no CA key');
  const creds = await issueNodeCertificate(ca, { nodeId: state.nodeId, role: 'worker', clusterId: state.clusterId, ipAddresses: [state.advertiseIp] });
  const others = (await store.listMembers()).filter((m) => m.name !== state.nodeId).flatMap((m) => m.clientUrls);
  await host.stopManaging();
  await leaveCluster(host.localMember(state), store);
  host.forgetMember();
  await saveNodeCredentials(host.certDir, creds);
  await rm(join(host.certDir, ROOT_CA_KEY_FILE), { force: true });
  await rm(join(host.certDir, DATA_KEY_FILE), { force: true });
  const next: LocalSwarmState = { ...state, role: 'worker', clientUrl: '', peerUrl: '', etcdEndpoints: others };
  await host.switchState(next);
  return next;
}
