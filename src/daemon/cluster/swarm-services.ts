/**
 * `docker service create/ls/inspect/update/rm` and `docker service ps`
 * (`/tasks`) on a manager, as reads and transactions on the cluster store.
 * The API only writes services; the leader's reconciler makes the tasks.
 *
 *   const services = new SwarmServices(() => store);
 *   const { ID } = await services.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' } } });
 *   await services.updateService('web', view.Version.Index, { ...view.Spec, Mode: { Replicated: { Replicas: 5 } } });
 */
import { isDeepStrictEqual } from 'node:util';
import type { Filters } from '../../api/filters.js';
import type { PortConfigView, ServiceSpecView, ServiceView, TaskView } from '../../api/types/index.js';
import { Conflict, InvalidParameter, NotFound } from '../../errdefs/index.js';
import { randomName } from '../containers/names.js';
import { readSnapshot } from './cluster-snapshot.js';
import { newSwarmId } from './ids.js';
import { parseConstraints } from './placement.js';
import {
  hostModePorts, isGlobal, serviceKey, serviceLockKey, serviceNameKey, SERVICES_PREFIX, serviceStatus, serviceView, taskName, TASKS_PREFIX, taskView,
  type ServiceRecord, type TaskRecord,
} from './service-records.js';
import { assignPorts, claimOps, INGRESS_PORTS_PREFIX, ingressKeys, parseClaims } from './ingress-ports.js';
import { listNetworks, VIPS_PREFIX, type OverlayNetworkRecord, type VipRecord } from './network-records.js';
import { applyVipPlan, planVips, releaseServiceVips, serviceVips, type IngressWant } from './service-vips.js';
import type { ClusterStore, KeyValue } from './store.js';
import { resolveNodeRef } from './swarm-objects.js';

export const SERVICE_FILTERS = ['id', 'label', 'mode', 'name'];
export const TASK_FILTERS = ['_up-to-date', 'desired-state', 'id', 'label', 'name', 'node', 'service'];

/** swarmkit's controlapi words for store.ErrNameConflict on a service create. */
const nameConflict = (name: string) =>
  new Conflict('swarm.service_name_conflict', `rpc error: code = AlreadyExists desc = name conflicts with an existing object: service ${name} already exists`);

const outOfSequence = () => new Conflict('swarm.update_out_of_sequence', 'rpc error: code = Unknown desc = update out of sequence');

/** swarmkit's spec checks, in its words. */
export function validateServiceSpec(spec: ServiceSpecView): void {
  const c = spec.TaskTemplate?.ContainerSpec;
  if (!c?.Image) throw new InvalidParameter('swarm.invalid_service_spec', 'rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided');
  if (spec.Mode?.Replicated && spec.Mode.Global) throw new InvalidParameter('swarm.invalid_service_spec', 'rpc error: code = InvalidArgument desc = service mode must be either replicated or global');
  if (spec.Mode?.ReplicatedJob || spec.Mode?.GlobalJob) throw new InvalidParameter('swarm.unsupported_option', 'job mode services are not supported by berth yet');
  if ((spec.Mode?.Replicated?.Replicas ?? 0) < 0) throw new InvalidParameter('swarm.invalid_service_spec', 'rpc error: code = InvalidArgument desc = replicas cannot be negative');
  // swarmkit's isValidDNSName (unambiguous, so no backtracking): underscores too (`docker stack deploy` names services <stack>_<service>)
  if (spec.Name && !/^[a-zA-Z0-9]+(?:[-_]+[a-zA-Z0-9]+)*$/.test(spec.Name)) {
    throw new InvalidParameter('swarm.invalid_service_spec', `rpc error: code = InvalidArgument desc = name must be valid as a DNS name component`);
  }
  if (spec.Name && spec.Name.length > 63) throw new InvalidParameter('swarm.invalid_service_spec', 'rpc error: code = InvalidArgument desc = name must be 63 characters or fewer');
  try {
    parseConstraints(spec.TaskTemplate?.Placement?.Constraints ?? []);
  } catch (err) {
    throw new InvalidParameter('swarm.invalid_constraint', `rpc error: code = InvalidArgument desc = ${(err as Error).message}`);
  }
  for (const p of spec.EndpointSpec?.Ports ?? []) {
    if (p.Protocol === 'sctp' && (p.PublishMode ?? 'ingress') === 'ingress') throw new InvalidParameter('swarm.unsupported_option', 'berth publishes sctp ports in mode host only');
    if ((p.PublishMode ?? 'ingress') === 'ingress' && spec.EndpointSpec?.Mode === 'dnsrr') {
      throw new InvalidParameter('swarm.invalid_service_spec', "rpc error: code = InvalidArgument desc = EndpointSpec: port published with ingress mode can't be used with dnsrr mode");
    }
    if (!p.TargetPort) throw new InvalidParameter('swarm.invalid_service_spec', 'rpc error: code = InvalidArgument desc = EndpointSpec: TargetPort must be provided');
  }
  // the deprecated top-level Networks: the CLI sends TaskTemplate.Networks
  if (spec.Networks?.length) throw new InvalidParameter('swarm.unsupported_option', 'networks of services are not supported by berth yet');
}

/** The service a reference names: full id, then name, then a unique id prefix (moby's getService). */
export function resolveService(ref: string, services: ServiceRecord[]): ServiceRecord {
  const found = services.find((s) => s.id === ref) ?? services.find((s) => s.spec.Name === ref);
  if (found) return found;
  const byPrefix = services.filter((s) => s.id.startsWith(ref));
  if (byPrefix.length > 1) throw new InvalidParameter('swarm.service_ambiguous', `service ${ref} is ambiguous (${byPrefix.length} matches found)`);
  if (!byPrefix[0]) throw new NotFound('swarm.service_not_found', `service ${ref} not found`);
  return byPrefix[0];
}

export class SwarmServices {
  /** `store()` throws the not-a-manager error when this node cannot answer. */
  constructor(private readonly store: () => ClusterStore) {}

  private async services(store: ClusterStore): Promise<{ record: ServiceRecord; kv: KeyValue }[]> {
    const { items } = await store.list(SERVICES_PREFIX);
    return items.map((kv) => ({ record: JSON.parse(kv.value) as ServiceRecord, kv }));
  }

  async createService(spec: ServiceSpecView): Promise<{ ID: string; Warnings?: string[] }> {
    const store = this.store();
    validateServiceSpec(spec);
    const existing = await this.services(store);
    // swarmkit's name index is case-insensitive; the read also covers services made before the index existed
    const names = new Set(existing.map((s) => (s.record.spec.Name ?? '').toLowerCase()));
    const name = spec.Name || randomName((n) => names.has(n.toLowerCase()));
    if (names.has(name.toLowerCase())) throw nameConflict(name);
    const now = new Date().toISOString();
    const record: ServiceRecord = {
      id: newSwarmId(), createdAt: now, updatedAt: now, specVersion: 1,
      spec: { ...spec, Name: name, Mode: spec.Mode?.Global ? { Global: {} } : { Replicated: { Replicas: spec.Mode?.Replicated?.Replicas ?? 1 } } },
    };
    const nets = await listNetworks(store);
    const { ingress, claim } = await this.publishedPorts(store, record, nets);
    // the VIPs exist before the service does, so no task ever starts without them
    await applyVipPlan(store, record.id, planVips(record.spec, nets, new Map(), ingress));
    // the name key is created only if absent: of two creates racing for one name, one wins in the store
    const r = await store.txn({
      compare: [{ key: serviceKey(record.id), modRevision: 0 }, { key: serviceNameKey(name), modRevision: 0 }, ...claim.compare],
      success: [{ put: serviceKey(record.id), value: JSON.stringify(record) }, { put: serviceNameKey(name), value: record.id }, ...claim.ops],
    });
    if (!r.succeeded) {
      await releaseServiceVips(store, record.id);
      // a port claimed meanwhile says so; else it was the name
      await this.publishedPorts(store, record, nets);
      throw nameConflict(name);
    }
    return { ID: record.id };
  }

  /**
   * Assigns the service's published ports (in `record`, which is changed:
   * endpointPorts, ingressNetworkId) and returns the ingress VIP's ports and
   * the claim writes for the service's transaction.
   */
  private async publishedPorts(store: ClusterStore, record: ServiceRecord, nets: OverlayNetworkRecord[], previous?: PortConfigView[]): Promise<{ ingress?: IngressWant; claim: ReturnType<typeof claimOps> }> {
    const claims = parseClaims((await store.list(INGRESS_PORTS_PREFIX)).items);
    const ports = assignPorts(record.spec, record.id, claims, previous);
    const onIngress = ports.filter((p) => p.PublishMode === 'ingress');
    const net = nets.find((n) => n.ingress);
    if (onIngress.length && !net) {
      throw new InvalidParameter('swarm.no_ingress', 'rpc error: code = FailedPrecondition desc = service needs ingress network, but no ingress network is present');
    }
    if (ports.length) record.endpointPorts = ports;
    else delete record.endpointPorts;
    if (onIngress.length) record.ingressNetworkId = net!.id;
    else delete record.ingressNetworkId;
    const claim = claimOps(record.id, record.spec.Name ?? '', ingressKeys(previous ?? []), ingressKeys(ports));
    if (!onIngress.length) return { claim };
    return { claim, ingress: { netId: net!.id, ports: onIngress.map((p) => ({ protocol: p.Protocol === 'udp' ? 'udp' : 'tcp', published: p.PublishedPort!, target: p.TargetPort! })) } };
  }

  async listServices(filters: Filters, withStatus: boolean): Promise<ServiceView[]> {
    const store = this.store();
    filters.accept(SERVICE_FILTERS);
    for (const m of filters.get('mode')) if (m !== 'replicated' && m !== 'global') throw new InvalidParameter('filter.invalid', `Invalid filter: 'mode'='${m}'`);
    const snap = withStatus ? await readSnapshot(store) : undefined;
    const live = new Set(snap?.nodes.filter((n) => n.ready).map((n) => n.id) ?? []);
    const tasks = snap?.tasks.map((t) => t.record) ?? [];
    const vips = await virtualIps(store);
    return (await this.services(store))
      .filter(({ record: s }) => filters.prefix('id', s.id) && filters.prefix('name', s.spec.Name ?? '') && filters.matchKVList('label', s.spec.Labels ?? {})
        && filters.exact('mode', isGlobal(s.spec) ? 'global' : 'replicated'))
      .map(({ record, kv }) => serviceView(record, kv.modRevision, snap ? serviceStatus(record, tasks, live) : undefined, vips.get(record.id)));
  }

  async inspectService(ref: string, withStatus = false): Promise<ServiceView> {
    const store = this.store();
    const all = await this.services(store);
    const s = resolveService(ref, all.map((x) => x.record));
    const kv = all.find((x) => x.record.id === s.id)!.kv;
    const vips = (await virtualIps(store)).get(s.id);
    if (!withStatus) return serviceView(s, kv.modRevision, undefined, vips);
    const snap = await readSnapshot(store);
    return serviceView(s, kv.modRevision, serviceStatus(s, snap.tasks.map((t) => t.record), new Set(snap.nodes.filter((n) => n.ready).map((n) => n.id))), vips);
  }

  /** `rollback`: back to the previous spec (`docker service rollback`), whatever spec was sent. */
  async updateService(ref: string, version: number, given: ServiceSpecView, o: { rollback?: boolean } = {}): Promise<{ Warnings: string[] }> {
    const store = this.store();
    const all = await this.services(store);
    const s = resolveService(ref, all.map((x) => x.record));
    const kv = all.find((x) => x.record.id === s.id)!.kv;
    if (version !== kv.modRevision) throw outOfSequence();
    if (o.rollback && !s.previousSpec) throw new Conflict('swarm.no_previous_spec', `rpc error: code = FailedPrecondition desc = service ${s.id} does not have a previous spec`);
    const spec = o.rollback ? s.previousSpec! : given;
    validateServiceSpec(spec);
    if ((spec.Name || s.spec.Name) !== s.spec.Name) throw new InvalidParameter('swarm.service_rename', 'rpc error: code = Unimplemented desc = renaming services is not supported');
    if (isGlobal(spec) !== isGlobal(s.spec)) throw new InvalidParameter('swarm.service_mode_change', 'rpc error: code = InvalidArgument desc = service mode change is not allowed');
    // host-mode ports are bound by the tasks' containers: a change replaces them (swarmkit's IsTaskDirty)
    const templateChanged = !isDeepStrictEqual(normalize(spec.TaskTemplate), normalize(s.spec.TaskTemplate))
      || !isDeepStrictEqual(hostModePorts(spec), hostModePorts(s.spec));
    const now = new Date().toISOString();
    // a rollback returns to the previous spec's version (tasks still on it stay); a new spec gets one never used
    const specVersion = !templateChanged ? s.specVersion
      : o.rollback && s.previousSpecVersion !== undefined ? s.previousSpecVersion : Math.max(s.specVersion, s.previousSpecVersion ?? 0) + 1;
    const { updateStatus: _done, ...rest } = s;
    void _done;
    const next: ServiceRecord = {
      ...rest, updatedAt: now, previousSpec: s.spec, spec: { ...spec, Name: s.spec.Name }, specVersion, previousSpecVersion: s.specVersion,
      // swarmkit: a new spec clears the update status; a rollback starts one
      ...(o.rollback ? { updateStatus: { state: 'rollback_started' as const, startedAt: now, message: 'manually requested rollback' } } : {}),
    };
    const current = await serviceVips(store, s.id);
    const nets = await listNetworks(store);
    const { ingress, claim } = await this.publishedPorts(store, next, nets, s.endpointPorts);
    // joining or leaving the ingress network replaces the tasks
    if (next.ingressNetworkId !== s.ingressNetworkId && next.specVersion === s.specVersion) next.specVersion = Math.max(s.specVersion, s.previousSpecVersion ?? 0) + 1;
    const plan = planVips(next.spec, nets, current, ingress);
    // new VIPs before the write (its tasks may start at once); VIPs no longer wanted only after it
    await applyVipPlan(store, s.id, { want: plan.want, drop: [] });
    const r = await store.txn({ compare: [{ key: kv.key, modRevision: kv.modRevision }, ...claim.compare], success: [{ put: kv.key, value: JSON.stringify(next) }, ...claim.ops] });
    if (!r.succeeded) throw outOfSequence();
    await applyVipPlan(store, s.id, { want: new Map(), drop: plan.drop });
    return { Warnings: [] };
  }

  /** The service goes; the reconciler sets its tasks to remove and each agent removes their containers. */
  async removeService(ref: string): Promise<void> {
    const store = this.store();
    const all = await this.services(store);
    const s = resolveService(ref, all.map((x) => x.record));
    const kv = all.find((x) => x.record.id === s.id)!.kv;
    const claim = claimOps(s.id, s.spec.Name ?? '', ingressKeys(s.endpointPorts ?? []), []);
    const r = await store.txn({
      compare: [{ key: kv.key, modRevision: kv.modRevision }],
      success: [{ delete: kv.key }, { delete: serviceLockKey(s.id) }, { delete: serviceNameKey(s.spec.Name ?? '') }, ...claim.ops],
    });
    if (r.succeeded) await releaseServiceVips(store, s.id);
  }

  async listTasks(filters: Filters): Promise<TaskView[]> {
    const store = this.store();
    filters.accept(TASK_FILTERS);
    const snap = await readSnapshot(store);
    const services = snap.services.map((s) => s.record);
    const serviceIds = new Set(filters.get('service').map((ref) => resolveService(ref, services).id));
    const nodeRefs = snap.nodes.map((n) => ({ id: n.id, name: n.hostname }));
    const nodeIds = new Set(filters.get('node').map((ref) => {
      const n = resolveNodeRef(ref, nodeRefs);
      if (n === 'ambiguous') throw new InvalidParameter('swarm.node_ambiguous', `node ${ref} is ambiguous`);
      if (!n) throw new NotFound('swarm.node_not_found', `node ${ref} not found`);
      return n.id;
    }));
    for (const d of filters.get('desired-state')) {
      if (!['running', 'shutdown', 'accepted'].includes(d)) throw new InvalidParameter('filter.invalid', `Invalid desired-state filter: '${d}'`);
    }
    const upToDate = filters.has('_up-to-date');
    const specVersion = new Map(services.map((s) => [s.id, s.specVersion]));
    const serviceLabels = new Map(services.map((s) => [s.id, s.spec.Labels ?? {}]));
    const match = (t: TaskRecord) => (!serviceIds.size || serviceIds.has(t.serviceId))
      && (!nodeIds.size || (!!t.nodeId && nodeIds.has(t.nodeId)))
      && filters.prefix('id', t.id)
      && filters.prefix('name', taskName(t))
      // swarmkit matches a task's label filter on its service's labels (`docker stack ps`: label=com.docker.stack.namespace=app)
      && filters.matchKVList('label', serviceLabels.get(t.serviceId) ?? {})
      && (!filters.has('desired-state') || filters.get('desired-state').some((d) => d === t.desiredState || (d === 'accepted' && t.desiredState === 'running')))
      && (!upToDate || specVersion.get(t.serviceId) === t.specVersion);
    return snap.tasks.filter((t) => match(t.record)).map((t) => taskView(t.record, t.modRevision));
  }

  async inspectTask(ref: string): Promise<TaskView> {
    const { items } = await this.store().list(TASKS_PREFIX);
    const all = items.map((kv) => ({ t: JSON.parse(kv.value) as TaskRecord, kv }));
    const exact = all.find((x) => x.t.id === ref);
    const found = exact ? [exact] : all.filter((x) => x.t.id.startsWith(ref));
    if (found.length > 1) throw new InvalidParameter('swarm.task_ambiguous', `task ${ref} is ambiguous (${found.length} matches found)`);
    if (!found[0]) throw new NotFound('swarm.task_not_found', `task ${ref} not found`);
    return taskView(found[0].t, found[0].kv.modRevision);
  }
}

/** Endpoint.VirtualIPs of every service, by service id. */
async function virtualIps(store: ClusterStore): Promise<Map<string, { NetworkID: string; Addr: string }[]>> {
  const out = new Map<string, { NetworkID: string; Addr: string }[]>();
  for (const i of (await store.list(VIPS_PREFIX)).items) {
    const v = JSON.parse(i.value) as VipRecord;
    const list = out.get(v.serviceId) ?? [];
    list.push({ NetworkID: i.key.slice(VIPS_PREFIX.length).split('/')[0]!, Addr: `${v.ip}/${v.prefix}` });
    out.set(v.serviceId, list);
  }
  return out;
}

/** A template as the CLI echoes it back: empty fields and key order do not count as a change. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? v.map(normalize) : undefined;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalize((v as Record<string, unknown>)[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v === '' || v === null || v === 0 || v === false ? undefined : v;
}
