/**
 * Secrets and configs on a manager: `docker secret|config create/ls/
 * inspect/rm` and the API's update, as reads and transactions on the
 * cluster store (records and rules: secret-objects.ts).
 *
 *   const secrets = new SwarmFileObjects('secret', () => store, sealWith(() => loadKey()));
 *   const id = await secrets.create({ Name: 'db_pw', Data: 'c2VjcmV0' });
 *   await secrets.remove('db_pw');
 *
 * Names are unique per kind through an index key written in the same
 * transaction as the record (`/berth/swarm/secret-names/<name>` = id,
 * created only if absent), so two managers creating one name race in etcd
 * and one gets swarmkit's AlreadyExists.
 *
 * Removal is two transactions, because the in-use check reads every
 * service and an etcd transaction cannot compare a whole prefix through
 * this store's interface:
 *   1. mark the record `removing` (a transaction on the revision read);
 *   2. list the services: if any uses it, clear the mark and refuse;
 *      else delete record and name (a transaction on the marked revision).
 * A service create or update must refuse a secret or config marked
 * `removing` (and compare its modRevision in its own write), so none starts
 * using one between the check and the delete. A crash between 1 and 2
 * leaves the mark; the next `rm` finishes the job.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Filters } from '../../api/filters.js';
import type { ConfigView, SecretView } from '../../api/types/index.js';
import { Conflict, NotFound } from '../../errdefs/index.js';
import { openValue, sealValue } from './data-key.js';
import { newSwarmId } from './ids.js';
import {
  applyUpdate, configView, inUseError, LIST_FILTERS, listMatches, nameTaken, prefixOf, resolveRef, secretView, serviceSpecOf,
  servicesUsing, swarmFileKey, validateCreate, type CreateSpec, type SwarmFileKind, type SwarmFileRecord,
} from './secret-objects.js';
import { SERVICES_PREFIX } from './service-records.js';
import { SWARM_PREFIX } from './swarm-objects.js';
import type { ClusterStore, KeyValue } from './store.js';

/** How a kind's data is kept in its record: sealed (secrets) or base64 (configs). */
export interface DataCodec {
  encode(id: string, data: Buffer): Promise<string>;
  decode(id: string, stored: string): Promise<Buffer>;
}

/** Secrets: AES-256-GCM with the cluster data key, bound to the secret's id. */
export function sealedWith(dataKey: () => Promise<Buffer>): DataCodec {
  return {
    encode: async (id, data) => sealValue(await dataKey(), data, id),
    decode: async (id, stored) => openValue(await dataKey(), stored, id),
  };
}

/** Configs: base64 in clear, as the API shows them. */
export const plainBase64: DataCodec = {
  encode: async (_id, data) => data.toString('base64'),
  decode: async (_id, stored) => Buffer.from(stored, 'base64'),
};

export const nameKey = (kind: SwarmFileKind, name: string) => `${SWARM_PREFIX}${kind}-names/${name}`;

const outOfSequence = () => new Conflict('swarm.update_out_of_sequence', 'update out of sequence');

interface Found {
  record: SwarmFileRecord;
  kv: KeyValue;
}

export class SwarmFileObjects<View extends SecretView | ConfigView> {
  /** `store()` throws dockerd's not-a-manager error when this node cannot answer. */
  constructor(readonly kind: SwarmFileKind, private readonly store: () => ClusterStore, private readonly codec: DataCodec) {}

  private view(r: SwarmFileRecord, modRevision: number): View {
    return (this.kind === 'secret' ? secretView(r, modRevision) : configView(r, modRevision)) as View;
  }

  private async all(store: ClusterStore): Promise<Found[]> {
    const { items } = await store.list(prefixOf(this.kind));
    return items.map((kv) => ({ record: JSON.parse(kv.value) as SwarmFileRecord, kv }));
  }

  private async find(store: ClusterStore, ref: string): Promise<Found> {
    const all = await this.all(store);
    return resolveRef(this.kind, ref, all.map((f) => ({ id: f.record.id, name: f.record.name, f }))).f;
  }

  async list(filters: Filters): Promise<View[]> {
    const store = this.store();
    filters.accept(LIST_FILTERS);
    return (await this.all(store)).filter(({ record }) => listMatches(filters, record)).map(({ record, kv }) => this.view(record, kv.modRevision));
  }

  async inspect(ref: string): Promise<View> {
    const { record, kv } = await this.find(this.store(), ref);
    return this.view(record, kv.modRevision);
  }

  /** Returns the new id. */
  async create(spec: CreateSpec): Promise<string> {
    const store = this.store();
    const { name, labels, data } = validateCreate(this.kind, spec);
    const id = newSwarmId();
    const now = new Date().toISOString();
    const record: SwarmFileRecord = { id, createdAt: now, updatedAt: now, name, labels, data: await this.codec.encode(id, data) };
    const r = await store.txn({
      compare: [{ key: nameKey(this.kind, name), modRevision: 0 }],
      success: [{ put: nameKey(this.kind, name), value: id }, { put: swarmFileKey(this.kind, id), value: JSON.stringify(record) }],
    });
    if (!r.succeeded) throw nameTaken(this.kind, name);
    return id;
  }

  async update(ref: string, version: number, spec: CreateSpec): Promise<void> {
    const store = this.store();
    const { record, kv } = await this.find(store, ref);
    if (version !== kv.modRevision) throw outOfSequence();
    const stored = spec.Data ? await this.codec.decode(record.id, record.data) : undefined;
    const sameData = (given: Buffer) => stored !== undefined && given.length === stored.length && timingSafeEqual(given, stored);
    const next = applyUpdate(this.kind, record, spec, sameData, new Date().toISOString());
    const r = await store.txn({ compare: [{ key: kv.key, modRevision: kv.modRevision }], success: [{ put: kv.key, value: JSON.stringify(next) }] });
    if (!r.succeeded) throw outOfSequence();
  }

  async remove(ref: string): Promise<void> {
    const store = this.store();
    const { record, kv } = await this.find(store, ref);
    const marked: SwarmFileRecord = { ...record, removing: true };
    const m = await store.txn({ compare: [{ key: kv.key, modRevision: kv.modRevision }], success: [{ put: kv.key, value: JSON.stringify(marked) }] });
    if (!m.succeeded) throw outOfSequence();
    let users: string[];
    try {
      const { items } = await store.list(SERVICES_PREFIX);
      users = servicesUsing(this.kind, record.id, items.flatMap((s) => serviceSpecOf(s.value) ?? []));
    } catch (err) {
      users = [];
      await this.unmark(store, marked, m.revision).catch(() => {});
      throw err;
    }
    if (users.length) {
      await this.unmark(store, marked, m.revision);
      throw inUseError(this.kind, record.name, users);
    }
    const d = await store.txn({
      compare: [{ key: kv.key, modRevision: m.revision }],
      success: [{ delete: kv.key }, { delete: nameKey(this.kind, record.name) }],
    });
    if (!d.succeeded) throw outOfSequence();
  }

  /** Clears the removal mark, if nothing wrote the record since it was set. */
  private async unmark(store: ClusterStore, marked: SwarmFileRecord, revision: number): Promise<void> {
    const { removing: _, ...unmarked } = marked;
    await store.txn({ compare: [{ key: swarmFileKey(this.kind, marked.id), modRevision: revision }], success: [{ put: swarmFileKey(this.kind, marked.id), value: JSON.stringify(unmarked) }] });
  }

  /**
   * The data of the object with this id, in clear: what a task's files are
   * made of (task-files.ts). Secrets open only on a manager (the data key).
   */
  async data(id: string): Promise<Buffer> {
    const store = this.store();
    const kv = await store.get(swarmFileKey(this.kind, id));
    if (!kv) throw new NotFound(`swarm.${this.kind}_not_found`, `${this.kind} ${id} not found`);
    const record = JSON.parse(kv.value) as SwarmFileRecord;
    return this.codec.decode(record.id, record.data);
  }
}
