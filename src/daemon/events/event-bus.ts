/**
 * The event stream behind GET /events: publishers emit, subscribers get
 * every event after they subscribed; a ring of recent events answers `since`.
 */
import type { Filters } from '../../api/filters.js';
import type { EventMessage } from '../../api/types/index.js';
import { nowNs } from '../logs/entry.js';

export type EventType = EventMessage['Type'];

export interface EventFilter {
  since?: bigint;
  until?: bigint;
  filters: Filters;
}

const RING = 1024;

export class EventBus {
  private readonly ring: EventMessage[] = [];
  private readonly subscribers = new Set<(e: EventMessage) => void>();

  /** `scope` 'swarm' for the cluster's objects, which a manager tells (cluster/cluster-events.ts). */
  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}, scope: 'local' | 'swarm' = 'local'): void {
    const ns = nowNs();
    const e: EventMessage = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope,
      time: Number(ns / 1_000_000_000n),
      timeNano: Number(ns),
    };
    if (type === 'container' || type === 'image') {
      e.status = action;
      e.id = id;
      if (attributes.image) e.from = attributes.image;
    }
    this.ring.push(e);
    if (this.ring.length > RING) this.ring.shift();
    for (const s of this.subscribers) s(e);
  }

  /** Past events (for `since`) and a subscription to new ones. */
  subscribe(onEvent: (e: EventMessage) => void): { past: EventMessage[]; unsubscribe: () => void } {
    this.subscribers.add(onEvent);
    return { past: [...this.ring], unsubscribe: () => this.subscribers.delete(onEvent) };
  }
}

/** Docker's event filters: type, event/action, container, image, label, network, volume, service, node, secret, config, daemon, scope. */
export function matchesEvent(e: EventMessage, f: Filters): boolean {
  const any = (key: string, test: (v: string) => boolean) => {
    const vals = f.get(key);
    return vals.length === 0 || vals.some(test);
  };
  const attrs = e.Actor.Attributes;
  return (
    f.exact('type', e.Type) &&
    any('event', (v) => v === e.Action || e.Action.startsWith(`${v}:`)) &&
    any('container', (v) => e.Type === 'container' && (e.Actor.ID.startsWith(v) || attrs.name === v)) &&
    any('image', (v) => (e.Type === 'image' && (e.Actor.ID === v || attrs.name === v)) || attrs.image === v) &&
    any('network', (v) => e.Type === 'network' && (e.Actor.ID.startsWith(v) || attrs.name === v)) &&
    any('volume', (v) => e.Type === 'volume' && e.Actor.ID === v) &&
    (['service', 'node', 'secret', 'config'] as const).every((t) => any(t, (v) => e.Type === t && (e.Actor.ID.startsWith(v) || attrs.name === v))) &&
    f.exact('scope', e.scope) &&
    f.matchKVList('label', attrs)
  );
}
