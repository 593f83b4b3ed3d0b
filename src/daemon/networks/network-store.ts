/**
 * Network records on disk and their in-memory index.
 *
 *   networks/<id>.json            one record per network, written atomically (overlay: the
 *                                 cluster's record as this node last saw it)
 *   networks/ipam/<cni name>/     host-local IPAM state (one file per leased address)
 *   networks/endpoints/<cid>.json a running container's attachments (for DEL after a crash)
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { IpamConfig } from '../../api/types/index.js';
import { NotFound } from '../../errdefs/index.js';
import { readJson, TEMP_PREFIX, writeJsonAtomic } from '../../lib/atomic-file.js';
import type { MacvlanState } from './drivers/macvlan.js';
import type { PluginPool, RemoteState } from './drivers/remote.js';

export interface NetworkRecord {
  id: string;
  name: string;
  created: string;
  /** A built-in driver, or the name of a network plugin (then `remote` is set). */
  driver: 'bridge' | 'macvlan' | 'host' | 'null' | 'overlay' | (string & {});
  internal: boolean;
  attachable: boolean;
  ipam: { driver: string; options: Record<string, string> | null; config: IpamConfig[] };
  /** Whether the user chose the subnet (then containers may ask for --ip). */
  userSubnet: boolean;
  options: Record<string, string>;
  labels: Record<string, string>;
  /** The bridge device (bridge driver only). */
  bridge?: string;
  /** The parent link and mode (macvlan driver only). */
  macvlan?: MacvlanState;
  /** Overlay networks (a copy of the cluster's record): the VXLAN id and device. */
  overlay?: { vni: number; vxlan: string; ingress?: boolean };
  /** Networks of a network plugin (drivers/remote.ts). */
  remote?: RemoteState;
  /** The pool of a remote IPAM driver (`ipam.driver` names it). */
  ipamPool?: PluginPool;
  /** Docker's predefined networks: bridge, host, none. */
  predefined?: boolean;
}

export function noSuchNetwork(ref: string): NotFound {
  return new NotFound('network.not_found', `network ${ref} not found`);
}

export class NetworkStore {
  private readonly byId = new Map<string, NetworkRecord>();

  constructor(readonly root: string) {}

  get ipamDir(): string {
    return join(this.root, 'ipam');
  }

  get endpointsDir(): string {
    return join(this.root, 'endpoints');
  }

  async init(): Promise<void> {
    await mkdir(this.ipamDir, { recursive: true, mode: 0o700 });
    await mkdir(this.endpointsDir, { recursive: true, mode: 0o700 });
    for (const f of await readdir(this.root)) {
      if (f.startsWith(TEMP_PREFIX)) await rm(join(this.root, f), { force: true });
      if (!/^([0-9a-f]{64}|[0-9a-z]{25})\.json$/.test(f)) continue; // local ids, or swarm ids (overlay)
      const rec = await readJson<NetworkRecord>(join(this.root, f));
      this.byId.set(rec.id, rec);
    }
  }

  list(): NetworkRecord[] {
    return [...this.byId.values()].sort((a, b) => (a.created < b.created ? -1 : 1));
  }

  byName(name: string): NetworkRecord | undefined {
    return this.list().find((n) => n.name === name);
  }

  /** Docker's lookup order: full id, exact name, then a unique id prefix. */
  find(ref: string): NetworkRecord | undefined {
    const exact = this.byId.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    const matches = ref ? this.list().filter((n) => n.id.startsWith(ref)) : [];
    return matches.length === 1 ? matches[0] : undefined;
  }

  get(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw noSuchNetwork(ref);
    return n;
  }

  async save(rec: NetworkRecord): Promise<void> {
    await writeJsonAtomic(join(this.root, `${rec.id}.json`), rec);
    this.byId.set(rec.id, rec);
  }

  async delete(id: string): Promise<void> {
    await rm(join(this.root, `${id}.json`), { force: true });
    this.byId.delete(id);
  }
}
