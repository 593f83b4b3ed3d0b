/**
 * dockerd's swarm events on a manager: `docker events` shows services,
 * nodes, secrets, configs and swarm networks being created, updated and
 * removed (scope "swarm"), as moby's daemon/events.go turns swarmkit's
 * store watch into events. Here the cluster store's changes under the
 * swarm prefix are the source; the values last seen are kept so an update
 * carries the attributes dockerd adds (image, replicas and update state of a
 * service; availability, role, state and leader of a node). After a lost
 * watch the prefix is read again and the differences are told.
 *
 *   const ev = new ClusterEvents(store, (type, action, id, attrs) => bus.publish(type, action, id, attrs, 'swarm'), log);
 *   ev.start(); ... await ev.stop();
 */
import { sleepUnlessAborted } from '../../lib/abortable-sleep.js';
import { LEADER_KEY } from './leader-election.js';
import { NETWORKS_PREFIX, type OverlayNetworkRecord } from './network-records.js';
import { CONFIGS_PREFIX, SECRETS_PREFIX, type SwarmFileRecord } from './secret-objects.js';
import { SERVICES_PREFIX, type ServiceRecord } from './service-records.js';
import type { ClusterStore } from './store.js';
import { HEARTBEATS_PREFIX, NODES_PREFIX, SWARM_PREFIX, type NodeRecord } from './swarm-objects.js';

export type ClusterEventType = 'service' | 'node' | 'secret' | 'config' | 'network';
export type ClusterEventAction = 'create' | 'update' | 'remove';
export type PublishClusterEvent = (type: ClusterEventType, action: ClusterEventAction, id: string, attributes: Record<string, string>) => void;

/** The keys whose changes are told (a node's heartbeat and the leader key are its state and leadership). */
const OBJECT_PREFIXES: [string, ClusterEventType][] = [
  [SERVICES_PREFIX, 'service'], [NODES_PREFIX, 'node'], [SECRETS_PREFIX, 'secret'], [CONFIGS_PREFIX, 'config'], [NETWORKS_PREFIX, 'network'],
];
const watched = (key: string) => key === LEADER_KEY || key.startsWith(HEARTBEATS_PREFIX) || OBJECT_PREFIXES.some(([p]) => key.startsWith(p));

export class ClusterEvents {
  private ctl: AbortController | undefined;
  private running: Promise<void> | undefined;
  /** Watched keys and their values as last seen. */
  private known = new Map<string, string>();

  constructor(
    private readonly store: ClusterStore,
    private readonly publish: PublishClusterEvent,
    private readonly log: (msg: string, f?: Record<string, unknown>) => void,
  ) {}

  start(): void {
    if (this.ctl) return;
    this.ctl = new AbortController();
    this.running = this.run(this.ctl.signal);
  }

  async stop(): Promise<void> {
    this.ctl?.abort();
    this.ctl = undefined;
    await this.running;
    this.running = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let first = true;
    while (!signal.aborted) {
      try {
        const { items, revision } = await this.store.list(SWARM_PREFIX);
        const now = new Map(items.filter((kv) => watched(kv.key)).map((kv) => [kv.key, kv.value]));
        if (first) this.known = now;
        else for (const key of new Set([...this.known.keys(), ...now.keys()])) this.change(key, now.get(key));
        first = false;
        for await (const e of this.store.watch(SWARM_PREFIX, { fromRevision: revision + 1, signal })) {
          if (watched(e.key)) this.change(e.key, e.type === 'put' ? e.value : undefined);
        }
      } catch (err) {
        if (signal.aborted) return;
        this.log('swarm events: watch failed; reading again', { error: (err as Error).message });
      }
      await sleepUnlessAborted(1000, signal);
    }
  }

  /** A watched key now holds `value` (undefined: deleted); tells what that means, once. */
  private change(key: string, value: string | undefined): void {
    const old = this.known.get(key);
    if (value === old) return;
    if (value === undefined) this.known.delete(key);
    else this.known.set(key, value);
    try {
      if (key === LEADER_KEY) this.leaderChanged(old, value);
      else if (key.startsWith(HEARTBEATS_PREFIX)) this.heartbeatChanged(key.slice(HEARTBEATS_PREFIX.length), old, value);
      else {
        const [prefix, type] = OBJECT_PREFIXES.find(([p]) => key.startsWith(p))!;
        const action: ClusterEventAction = value === undefined ? 'remove' : old === undefined ? 'create' : 'update';
        this.publish(type, action, key.slice(prefix.length), objectAttributes(type, value ?? old!, value !== undefined && old !== undefined ? old : undefined));
      }
    } catch (err) {
      this.log('swarm events: an unreadable record', { key, error: (err as Error).message });
    }
  }

  /** A heartbeat key lives while its node is up: its coming and going are the node's state. */
  private heartbeatChanged(nodeId: string, old: string | undefined, value: string | undefined): void {
    if ((old === undefined) === (value === undefined)) return; // a renewal
    const record = this.known.get(NODES_PREFIX + nodeId);
    if (!record) return; // a node joining (its create comes) or removed (its remove came)
    const [from, to] = value === undefined ? ['ready', 'down'] : ['down', 'ready'];
    this.publish('node', 'update', nodeId, { name: nodeName(JSON.parse(record) as NodeRecord), 'state.old': from, 'state.new': to });
  }

  private leaderChanged(old: string | undefined, value: string | undefined): void {
    for (const [id, was, is] of [[old, 'true', 'false'], [value, 'false', 'true']] as const) {
      const record = id && this.known.get(NODES_PREFIX + id);
      if (record) this.publish('node', 'update', id, { name: nodeName(JSON.parse(record) as NodeRecord), 'leader.old': was, 'leader.new': is });
    }
  }
}

function nodeName(n: NodeRecord): string {
  return n.spec.Name || n.description?.Hostname || '';
}

/** `name`, and for an update (`old` given) what dockerd shows changed. */
export function objectAttributes(type: ClusterEventType, value: string, old?: string): Record<string, string> {
  switch (type) {
    case 'service': {
      const s = JSON.parse(value) as ServiceRecord;
      const attrs: Record<string, string> = { name: s.spec.Name ?? '' };
      if (old === undefined) return attrs;
      const o = JSON.parse(old) as ServiceRecord;
      const image = s.spec.TaskTemplate?.ContainerSpec?.Image;
      const oldImage = o.spec.TaskTemplate?.ContainerSpec?.Image;
      if (image !== oldImage) Object.assign(attrs, { 'image.old': oldImage ?? '', 'image.new': image ?? '' });
      const replicas = s.spec.Mode?.Replicated?.Replicas;
      const oldReplicas = o.spec.Mode?.Replicated?.Replicas;
      if (replicas !== undefined && oldReplicas !== undefined && replicas !== oldReplicas) {
        Object.assign(attrs, { 'replicas.old': String(oldReplicas), 'replicas.new': String(replicas) });
      }
      if (s.updateStatus) {
        if (!o.updateStatus) attrs['updatestate.new'] = s.updateStatus.state;
        else if (s.updateStatus.state !== o.updateStatus.state) Object.assign(attrs, { 'updatestate.old': o.updateStatus.state, 'updatestate.new': s.updateStatus.state });
      }
      return attrs;
    }
    case 'node': {
      const n = JSON.parse(value) as NodeRecord;
      const attrs: Record<string, string> = { name: nodeName(n) };
      if (old === undefined) return attrs;
      const o = JSON.parse(old) as NodeRecord;
      if (n.spec.Availability !== o.spec.Availability) Object.assign(attrs, { 'availability.old': o.spec.Availability, 'availability.new': n.spec.Availability });
      if (n.spec.Role !== o.spec.Role) Object.assign(attrs, { 'role.old': o.spec.Role, 'role.new': n.spec.Role });
      return attrs;
    }
    case 'network':
      return { name: (JSON.parse(value) as OverlayNetworkRecord).name };
    case 'secret':
    case 'config':
      return { name: (JSON.parse(value) as SwarmFileRecord).name };
  }
}
