/**
 * Where a task's secret and config data come from on this node, for
 * resolveTaskFiles (task-files.ts):
 *
 *   const source = await swarm.taskFileSource(containerSpec);   // SwarmService
 *   const files = await resolveTaskFiles(containerSpec, source);
 *
 * On a manager, the store (it holds the data key). On a worker, one request
 * to a manager over the swarm port (`/v1/task-files`, mutual TLS with the
 * node certificate), which answers only for what a task assigned to this
 * node references; the managers are those the store lists as reachable,
 * then those this worker joined through.
 */
import { NotFound, Unavailable } from '../../errdefs/index.js';
import { requestTaskFiles } from './join-protocol.js';
import { loadNodeCredentials, loadRootCA } from './pki-files.js';
import type { ClusterStore } from './store.js';
import { readNodes } from './swarm-nodes.js';

export interface TaskFileRefs {
  Secrets?: { SecretID: string }[] | null;
  Configs?: { ConfigID: string }[] | null;
}

export interface TaskFileSource {
  secret(id: string): Promise<Buffer>;
  config(id: string): Promise<Buffer>;
}

export interface TaskFileSourceDeps {
  role: 'manager' | 'worker';
  /** The managers this node joined through (state.json). */
  managers: { addr: string }[];
  store: ClusterStore;
  certDir: string;
  secrets: { data(id: string): Promise<Buffer> };
  configs: { data(id: string): Promise<Buffer> };
}

export async function taskFileSource(refs: TaskFileRefs, d: TaskFileSourceDeps): Promise<TaskFileSource> {
  if (d.role === 'manager') return { secret: (id) => d.secrets.data(id), config: (id) => d.configs.data(id) };
  const [creds, ca] = await Promise.all([loadNodeCredentials(d.certDir), loadRootCA(d.certDir)]);
  if (!creds || !ca) throw new Unavailable('swarm.not_manager', 'this node has no certificates');
  const fromStore = await readNodes(d.store).then((r) => r.views.filter((v) => v.ManagerStatus?.Reachability === 'reachable').map((v) => v.ManagerStatus!.Addr), () => []);
  const managers = [...new Set([...fromStore, ...d.managers.map((m) => m.addr)])];
  const answer = await requestTaskFiles(managers, ca.certPem, creds, {
    secrets: (refs.Secrets ?? []).map((r) => r.SecretID), configs: (refs.Configs ?? []).map((r) => r.ConfigID),
  });
  const pick = (kind: 'secret' | 'config', m: Record<string, string>) => async (id: string) => {
    const data = m[id];
    if (data === undefined) throw new NotFound(kind === 'secret' ? 'swarm.secret_not_found' : 'swarm.config_not_found', `${kind} ${id} not found`);
    return Buffer.from(data, 'base64');
  };
  return { secret: pick('secret', answer.secrets), config: pick('config', answer.configs) };
}
