/**
 * One long-lived `/events` stream for the whole page; pages subscribe to
 * it instead of polling. After a dropped stream it reconnects from the last
 * event's time, so nothing is missed in between.
 */
import { call, ndjson, query } from './api.js';

export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

type Listener = (e: EngineEvent) => void;

const listeners = new Set<Listener>();
let started = false;
let connected: Promise<void> | undefined;
let since: number | undefined;

async function run(signalReady: () => void): Promise<void> {
  for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      const filters = JSON.stringify({ type: ['container', 'image', 'volume', 'network', 'service', 'node'] });
      const res = await call('GET', `/events${query({ filters, since })}`);
      signalReady();
      delay = 500;
      for await (const e of ndjson<EngineEvent>(res)) {
        since = e.time;
        for (const l of listeners) l(e);
      }
    } catch {
      // the console server or the daemon went away: try again below
    }
    signalReady();
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Subscribes to engine events; resolves once the stream is open, so a list read after it misses nothing. */
export function subscribe(l: Listener): { ready: Promise<void>; unsubscribe: () => void } {
  listeners.add(l);
  if (!started) {
    started = true;
    connected = new Promise((resolve) => void run(resolve));
  }
  return { ready: connected!, unsubscribe: () => listeners.delete(l) };
}
