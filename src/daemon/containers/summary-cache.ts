/**
 * The `ps` rows as JSON text, kept per container so `GET /containers/json`
 * serialises only what changed since the last request (pure, in memory).
 *
 * A row is cached in two halves around its `Status`, the one field that
 * moves with the clock ("Up 3 minutes"):
 *
 *   {"Id":"…",…,"State":"running","Status":   +  "Up 3 minutes"  +  ,"HostConfig":…}
 *
 * A cached row is reused while the record is the same object, its store
 * version (bumped on every save) is unchanged, and the parts a row shows are
 * still the same objects: berth replaces `state`, `networkSettings.Ports`,
 * `mounts`… wholesale when they change, so an identity check catches changes
 * that are not saved yet (a container marked `removing`, a health probe).
 */
import type { ContainerRecord } from './record.js';
import { statusString } from './record.js';
import { summaryView } from './wire-views.js';

/** Never produced by JSON.stringify of a real row: it escapes control characters. */
const MARK = '\u0000status\u0000';
const MARKED = `"Status":${JSON.stringify(MARK)}`;

interface Row {
  rec: ContainerRecord;
  version: number;
  /** The parts of the record the row was made from, compared by identity. */
  deps: unknown[];
  head: string;
  tail: string;
}

function depsOf(rec: ContainerRecord): unknown[] {
  return [rec.name, rec.state, rec.config, rec.config.Labels, rec.config.Image, rec.hostConfig, rec.networkSettings, rec.networkSettings.Networks, rec.networkSettings.Ports, rec.mounts, rec.path, rec.args, rec.image, rec.created];
}

function sameDeps(a: unknown[], b: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class SummaryCache {
  private readonly rows = new Map<string, Row>();

  /** `version(id)`: the store's change counter of a container. */
  constructor(private readonly version: (id: string) => number) {}

  /** The JSON array of these records' rows, in this order. */
  json(recs: ContainerRecord[], now = Date.now()): string {
    let out = '[';
    for (let i = 0; i < recs.length; i++) {
      const rec = recs[i]!;
      const row = this.row(rec);
      if (i) out += ',';
      out += row.head + JSON.stringify(statusString(rec.state, now)) + row.tail;
    }
    return out + ']';
  }

  /** Drops rows of containers that are gone (called with the ids that still exist). */
  retain(ids: Set<string>): void {
    for (const id of this.rows.keys()) if (!ids.has(id)) this.rows.delete(id);
  }

  get size(): number {
    return this.rows.size;
  }

  private row(rec: ContainerRecord): Row {
    const version = this.version(rec.id);
    const deps = depsOf(rec);
    const hit = this.rows.get(rec.id);
    if (hit && hit.rec === rec && hit.version === version && sameDeps(hit.deps, deps)) return hit;
    const view = summaryView(rec, rec.config.Image);
    const text = JSON.stringify({ ...view, Status: MARK });
    const at = text.indexOf(MARKED);
    const row: Row = { rec, version, deps, head: text.slice(0, at + MARKED.length - JSON.stringify(MARK).length), tail: text.slice(at + MARKED.length) };
    this.rows.set(rec.id, row);
    return row;
  }
}
