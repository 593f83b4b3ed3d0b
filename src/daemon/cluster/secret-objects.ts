/**
 * Secrets and configs as they sit in the cluster store, and the pure rules
 * over them (swarmkit's controlapi/secret.go and config.go, moby's
 * daemon/cluster/secrets.go and configs.go). No I/O: secrets.ts reads and
 * writes the store.
 *
 *   /berth/swarm/secrets/<id>   SwarmFileRecord, `data` sealed with the cluster data key (data-key.ts)
 *   /berth/swarm/configs/<id>   SwarmFileRecord, `data` base64 in clear (configs are not secret)
 *   /berth/swarm/services/<id>  written by the services code; read here for the in-use check
 *
 * Both kinds share one record shape and one set of rules; `kind` says which
 * words and limits apply. `Version.Index` is the key's modRevision.
 *
 * Errors that dockerd passes on from swarmkit's gRPC API keep its framing
 * (`rpc error: code = AlreadyExists desc = secret s already exists`), since
 * that is what the docker CLI prints against dockerd; moby's own lookups
 * (`secret s not found`) have none.
 */
import type { Filters } from '../../api/filters.js';
import type { ConfigView, SecretView, SwarmDriver } from '../../api/types/index.js';
import { Conflict, InvalidParameter, NotFound } from '../../errdefs/index.js';
import { SWARM_PREFIX } from './swarm-objects.js';

export type SwarmFileKind = 'secret' | 'config';

export const SECRETS_PREFIX = `${SWARM_PREFIX}secrets/`;
export const CONFIGS_PREFIX = `${SWARM_PREFIX}configs/`;
export const prefixOf = (kind: SwarmFileKind) => (kind === 'secret' ? SECRETS_PREFIX : CONFIGS_PREFIX);
export const swarmFileKey = (kind: SwarmFileKind, id: string) => `${prefixOf(kind)}${id}`;

/** swarmkit's MaxSecretSize (500 KiB) and MaxConfigSize (1000 KiB): data must be shorter. */
export const MAX_DATA_SIZE: Record<SwarmFileKind, number> = { secret: 500 * 1024, config: 1000 * 1024 };

export interface SwarmFileRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  name: string;
  labels: Record<string, string>;
  /** A secret's: sealValue() of the plaintext. A config's: base64 of the data. */
  data: string;
  /**
   * Set while a removal checks the services (secrets.ts): a service create
   * or update must refuse a secret or config that carries it, so none can
   * start using one between the check and the delete.
   */
  removing?: boolean;
}

/** A Go gRPC status error's text, as dockerd passes it on. */
export function rpcError(code: 'InvalidArgument' | 'AlreadyExists' | 'NotFound', desc: string): string {
  return `rpc error: code = ${code} desc = ${desc}`;
}

const VALID_NAME = /^[a-zA-Z0-9]+(?:[a-zA-Z0-9-_.]*[a-zA-Z0-9])?$/;

/** swarmkit's validateConfigOrSecretAnnotations. */
export function validateName(name: string | undefined): string {
  if (!name) throw new InvalidParameter('swarm.invalid_name', rpcError('InvalidArgument', 'name must be provided'));
  if (name.length > 64 || !VALID_NAME.test(name)) {
    throw new InvalidParameter('swarm.invalid_name', rpcError('InvalidArgument', 'invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]'));
  }
  return name;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's encoding/json decodes []byte with base64.StdEncoding, strictly (padding required). */
export function decodeBase64Data(text: string | undefined | null): Buffer {
  if (text === undefined || text === null) return Buffer.alloc(0);
  if (!STRICT_BASE64.test(text)) {
    const bad = text.search(/[^A-Za-z0-9+/]/);
    throw new InvalidParameter('swarm.invalid_data', `illegal base64 data at input byte ${bad === -1 ? text.length - (text.length % 4) : bad}`);
  }
  return Buffer.from(text, 'base64');
}

/** What berth does not do: refused, never ignored. */
function checkDrivers(kind: SwarmFileKind, driver: SwarmDriver | undefined, templating: SwarmDriver | undefined): void {
  if (driver?.Name) throw new InvalidParameter('swarm.unsupported_option', `${kind} drivers (--driver ${driver.Name}) are not supported by berth: the ${kind} data must be given`);
  if (templating?.Name) throw new InvalidParameter('swarm.unsupported_option', `${kind} templating (--template-driver ${templating.Name}) is not supported by berth`);
}

export interface CreateSpec {
  Name?: string;
  Labels?: Record<string, string>;
  Data?: string;
  Driver?: SwarmDriver;
  Templating?: SwarmDriver;
}

/** swarmkit's validateSecretSpec / validateConfigSpec: the name, the data (decoded) and the size limit. */
export function validateCreate(kind: SwarmFileKind, spec: CreateSpec): { name: string; labels: Record<string, string>; data: Buffer } {
  const name = validateName(spec.Name);
  checkDrivers(kind, spec.Driver, spec.Templating);
  const data = decodeBase64Data(spec.Data);
  const max = MAX_DATA_SIZE[kind];
  if (data.length >= max || data.length < 1) {
    throw new InvalidParameter('swarm.invalid_data', rpcError('InvalidArgument', `${kind} data must be larger than 0 and less than ${max} bytes`));
  }
  return { name, labels: spec.Labels ?? {}, data };
}

/**
 * swarmkit's UpdateSecret / UpdateConfig: only the labels may change. A
 * secret's data cannot be compared without opening it, so `sameData` says
 * whether the given data equals the stored (constant time, in the caller).
 */
export function applyUpdate(kind: SwarmFileKind, r: SwarmFileRecord, spec: CreateSpec, sameData: (given: Buffer) => boolean, now: string): SwarmFileRecord {
  checkDrivers(kind, spec.Driver, spec.Templating);
  const given = spec.Data ? decodeBase64Data(spec.Data) : undefined;
  if ((spec.Name ?? '') !== r.name || (given !== undefined && !sameData(given))) {
    throw new InvalidParameter('swarm.update_not_allowed', rpcError('InvalidArgument', 'only updates to Labels are allowed'));
  }
  return { ...r, labels: spec.Labels ?? {}, updatedAt: now };
}

export function secretView(r: SwarmFileRecord, modRevision: number): SecretView {
  return { ID: r.id, Version: { Index: modRevision }, CreatedAt: r.createdAt, UpdatedAt: r.updatedAt, Spec: { Name: r.name, Labels: r.labels } };
}

export function configView(r: SwarmFileRecord, modRevision: number): ConfigView {
  return { ID: r.id, Version: { Index: modRevision }, CreatedAt: r.createdAt, UpdatedAt: r.updatedAt, Spec: { Name: r.name, Labels: r.labels, Data: r.data } };
}

export const LIST_FILTERS = ['names', 'name', 'id', 'label'];

/**
 * moby's newListSecretsFilters + swarmkit's ListSecrets: `names` (exact),
 * `name` (prefix) and `id` (prefix) select what matches ANY of them; then
 * every `label` (`k` = present, `k=v` = that value) must hold.
 */
export function listMatches(f: Filters, r: { id: string; name: string; labels: Record<string, string> }): boolean {
  const names = f.get('names');
  const namePrefixes = f.get('name');
  const idPrefixes = f.get('id');
  if (names.length + namePrefixes.length + idPrefixes.length > 0) {
    const hit = names.includes(r.name) || namePrefixes.some((p) => r.name.startsWith(p)) || idPrefixes.some((p) => r.id.startsWith(p));
    if (!hit) return false;
  }
  return f.get('label').every((l) => {
    const eq = l.indexOf('=');
    const k = eq === -1 ? l : l.slice(0, eq);
    if (!Object.prototype.hasOwnProperty.call(r.labels, k)) return false;
    return eq === -1 || r.labels[k] === l.slice(eq + 1);
  });
}

/**
 * moby's getSecret / getConfig: the full id, else the exact name, else a
 * unique id prefix.
 */
export function resolveRef<T extends { id: string; name: string }>(kind: SwarmFileKind, ref: string, all: T[]): T {
  const byId = all.find((r) => r.id === ref);
  if (byId) return byId;
  let found = all.filter((r) => r.name === ref);
  if (found.length === 0) found = ref ? all.filter((r) => r.id.startsWith(ref)) : [];
  if (found.length === 0) throw new NotFound(`swarm.${kind}_not_found`, `${kind} ${ref} not found`);
  if (found.length > 1) throw new InvalidParameter(`swarm.${kind}_ambiguous`, `${kind} ${ref} is ambiguous (${found.length} matches found)`);
  return found[0]!;
}

export function nameTaken(kind: SwarmFileKind, name: string): Conflict {
  return new Conflict('swarm.name_conflict', rpcError('AlreadyExists', `${kind} ${name} already exists`));
}

/** The part of a service spec (Engine API `ServiceSpec`) that references secrets and configs. */
export interface ServiceSpecRefs {
  Name?: string;
  TaskTemplate?: {
    ContainerSpec?: {
      Secrets?: { SecretID?: string; SecretName?: string }[] | null;
      Configs?: { ConfigID?: string; ConfigName?: string }[] | null;
    };
  };
}

/** The names of the services whose spec references the secret or config `id`, in the order given. */
export function servicesUsing(kind: SwarmFileKind, id: string, services: ServiceSpecRefs[]): string[] {
  return services.filter((s) => {
    const cs = s.TaskTemplate?.ContainerSpec;
    return kind === 'secret' ? (cs?.Secrets ?? []).some((r) => r.SecretID === id) : (cs?.Configs ?? []).some((r) => r.ConfigID === id);
  }).map((s) => s.Name ?? '');
}

/** swarmkit's refusal to remove what services use: `secret 'x' is in use by the following service: web`. */
export function inUseError(kind: SwarmFileKind, name: string, serviceNames: string[]): InvalidParameter {
  const noun = serviceNames.length === 1 ? 'service' : 'services';
  return new InvalidParameter(`swarm.${kind}_in_use`, rpcError('InvalidArgument', `${kind} '${name}' is in use by the following ${noun}: ${serviceNames.join(', ')}`));
}

/**
 * A service record's spec, whichever way the services code spells it
 * (`spec` as swarm-objects.ts does for nodes, or the API's `Spec`).
 */
export function serviceSpecOf(value: string): ServiceSpecRefs | undefined {
  try {
    const v = JSON.parse(value) as { spec?: ServiceSpecRefs; Spec?: ServiceSpecRefs };
    return v.spec ?? v.Spec;
  } catch {
    return undefined;
  }
}


/** The part of a task record (Engine API `Task`) that says where it runs and what it references. */
export interface TaskRefs {
  NodeID?: string;
  Spec?: ServiceSpecRefs['TaskTemplate'];
}

/** A task record's node and spec, whichever way the services code spells them (`nodeId`/`spec` or the API's). */
export function taskRefsOf(value: string): TaskRefs | undefined {
  try {
    const v = JSON.parse(value) as { NodeID?: string; nodeId?: string; Spec?: TaskRefs['Spec']; spec?: TaskRefs['Spec'] };
    const spec = v.Spec ?? v.spec;
    return { ...(v.NodeID ?? v.nodeId ? { NodeID: v.NodeID ?? v.nodeId } : {}), ...(spec ? { Spec: spec } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Whether a worker may have the data of this secret or config: only if a
 * task assigned to it references it, as swarmkit's dispatcher sends a node
 * only its tasks' secrets.
 */
export function nodeMayRead(kind: SwarmFileKind, id: string, nodeId: string, tasks: TaskRefs[]): boolean {
  return tasks.some((t) => {
    if (t.NodeID !== nodeId) return false;
    const cs = t.Spec?.ContainerSpec;
    return kind === 'secret' ? (cs?.Secrets ?? []).some((r) => r.SecretID === id) : (cs?.Configs ?? []).some((r) => r.ConfigID === id);
  });
}
